"""Fixtures shared by the retrieval tests."""

from __future__ import annotations

import pytest

from retrieval.training.features import triplet_features
from retrieval.training.phrasebook import Phrasebook


@pytest.fixture(scope="session")
def tiny_triplets(tiny_encoder):
    return triplet_features(tiny_encoder, "test", 96, Phrasebook.load(), seed=0, limit=400)
