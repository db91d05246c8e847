"""Training-free composition: image-only, text-only, weighted sum, and CIReVL-style editing."""

from __future__ import annotations

import numpy as np

from retrieval.compose.base import Composer


class ImageOnly(Composer):
    name = "image-only"

    def _compose(self, references: np.ndarray, texts: list[str]) -> np.ndarray:
        return references


class TextOnly(Composer):
    name = "text-only"

    def _compose(self, references: np.ndarray, texts: list[str]) -> np.ndarray:
        return self.encoder.encode_texts(texts)


class WeightedSum(Composer):
    """Late fusion: w * image + (1 - w) * text."""

    name = "sum"

    def _compose(self, references: np.ndarray, texts: list[str]) -> np.ndarray:
        weight = float(self.config.get("image_weight", 0.5))
        return weight * references + (1 - weight) * self.encoder.encode_texts(texts)
