"""The MiniLM text tower alone, behind the Encoder API (caption vectors for training)."""

from __future__ import annotations

import torch

from retrieval.encoders.base import Encoder
from retrieval.encoders.minilm import MiniLMTextTower


class TextOnlyEncoder(Encoder):
    model_id = "minilm-l6-v2"
    fingerprint = "minilm-l6-v2-mean-pooled"  # the same vectors as every MiniLM-based encoder

    def __init__(self):
        self.device = torch.device("cpu")
        self.tower = MiniLMTextTower()
        self.dim = self.tower.dim

    def _texts(self, texts: list[str]) -> torch.Tensor:
        return self.tower(texts)

    def _images(self, images):
        raise ValueError("the text tower alone encodes no images")
