"""sum: late fusion of the reference and the text, w * image + (1 - w) * text."""

from __future__ import annotations

from typing import Literal

import numpy as np

from retrieval.compose.base import Composer
from retrieval.compose.config import ComposerConfig
from retrieval.compose.kinds import ComposerKind


class SumConfig(ComposerConfig):
    kind: Literal["sum"]
    image_weight: float  # query = w * image + (1 - w) * text


class WeightedSum(Composer):
    """Late fusion: w * image + (1 - w) * text."""

    name = "sum"

    def _compose(self, references: np.ndarray, texts: list[str], images=None) -> np.ndarray:
        weight = self.config.image_weight
        return weight * references + (1 - weight) * self.encoder.encode_texts(texts)


KIND = ComposerKind(config=SumConfig, composer=WeightedSum)
