"""Pic2Word (Saito et al., CVPR 2023): an image vector becomes a pseudo word in the text tower.

Trained on images alone: the frozen text tower reading "a photo of *", with * the mapped
pseudo word, must land on the image's own vector (contrastive over the batch). At query time
the pseudo word is spliced into a prompt that carries the modification.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from retrieval.compose.base import ComposerModule
from retrieval.compose.config import ComposerConfig, as_config
from retrieval.compose.kinds import ComposerKind
from retrieval.encoders.base import PseudoWordEncoder


class Pic2WordConfig(ComposerConfig):
    kind: Literal["pic2word"]
    hidden_dim: int
    dropout: float
    train_prompt: str
    query_prompt: str
    pseudo_scale: float  # length of the spliced pseudo word at query time (1 = as trained)


class Pic2Word(ComposerModule):
    uses_triplets = False

    def __init__(self, dim: int, config: Pic2WordConfig | dict, encoder=None):
        super().__init__()
        config = as_config("pic2word", config)
        if not isinstance(encoder, PseudoWordEncoder):
            raise ValueError(
                "pic2word needs an encoder whose text tower accepts pseudo words "
                "(fashion-mini or open_clip)"
            )
        hidden, dropout = config.hidden_dim, config.dropout
        self.mapping = nn.Sequential(
            nn.Linear(dim, hidden),
            nn.Dropout(dropout),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.Dropout(dropout),
            nn.ReLU(),
            nn.Linear(hidden, encoder.word_dim),
        )
        self.train_prompt = config.train_prompt
        self.query_prompt = config.query_prompt
        self.pseudo_scale = config.pseudo_scale
        self._encoder = [encoder]  # a list keeps the frozen encoder out of state_dict

    def encode_prompts(
        self, prompts: list[str], reference: torch.Tensor, scale: float = 1.0
    ) -> torch.Tensor:
        pseudo = self.mapping(reference) * scale  # (B, W)
        return F.normalize(
            self._encoder[0].encode_with_pseudo_words(prompts, pseudo).float(), dim=-1
        )

    def image_loss(self, images: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        """Symmetric InfoNCE between images and "a photo of *(image)"."""
        text = self.encode_prompts([self.train_prompt] * len(images), images)
        logits = scale * images @ text.T
        labels = torch.arange(len(images))
        return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))

    def forward(self, batch: dict) -> torch.Tensor:
        prompts = [self.query_prompt.format(text=t) for t in batch["texts"]]
        return self.encode_prompts(prompts, batch["reference"], self.pseudo_scale)


KIND = ComposerKind(config=Pic2WordConfig, module=Pic2Word)
