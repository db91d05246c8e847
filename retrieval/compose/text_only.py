"""text-only: the modification text alone (ignores the image)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from retrieval.compose.base import Composer
from retrieval.compose.config import ComposerConfig
from retrieval.compose.kinds import ComposerKind


class TextOnlyConfig(ComposerConfig):
    kind: Literal["text-only"]


class TextOnly(Composer):
    name = "text-only"

    def _compose(self, references: np.ndarray, texts: list[str], images=None) -> np.ndarray:
        return self.encoder.encode_texts(texts)


KIND = ComposerKind(config=TextOnlyConfig, composer=TextOnly)
