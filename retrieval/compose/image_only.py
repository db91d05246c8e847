"""image-only: the reference image alone (ignores the text)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from retrieval.compose.base import Composer
from retrieval.compose.config import ComposerConfig
from retrieval.compose.kinds import ComposerKind


class ImageOnlyConfig(ComposerConfig):
    kind: Literal["image-only"]


class ImageOnly(Composer):
    name = "image-only"

    def _compose(self, references: np.ndarray, texts: list[str], images=None) -> np.ndarray:
        return references


KIND = ComposerKind(config=ImageOnlyConfig, composer=ImageOnly)
