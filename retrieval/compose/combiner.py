"""CLIP4Cir (Baldrati et al.): a text adapter (stage 1) and the Combiner network (stage 2)."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from retrieval.compose.base import ComposerModule
from retrieval.compose.config import ComposerConfig, as_config
from retrieval.compose.kinds import ComposerKind


class CombinerConfig(ComposerConfig):
    kind: Literal["combiner"]
    adapter_hidden: int
    projection_dim: int
    hidden_dim: int
    dropout: float


class TextAdapter(nn.Module):
    """Stage 1 stand-in for fine-tuning a frozen text tower: t' = t + MLP(t), zero-initialised."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, text: torch.Tensor) -> torch.Tensor:
        return F.normalize(text + self.mlp(text), dim=-1)


class Combiner(nn.Module):
    """Projected image and text features, a learned convex mix plus a learned mixture."""

    def __init__(self, dim: int, projection_dim: int, hidden_dim: int, dropout: float):
        super().__init__()
        self.text_projection = nn.Linear(dim, projection_dim)
        self.image_projection = nn.Linear(dim, projection_dim)
        self.dropout = nn.Dropout(dropout)
        self.combiner_layer = nn.Linear(2 * projection_dim, hidden_dim)
        self.output_layer = nn.Linear(hidden_dim, dim)
        self.dynamic_scalar = nn.Sequential(
            nn.Linear(2 * projection_dim, hidden_dim),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_dim, 1),
            nn.Sigmoid(),
        )

    def forward(self, image: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        projected_text = self.dropout(F.relu(self.text_projection(text)))  # (B, P)
        projected_image = self.dropout(F.relu(self.image_projection(image)))
        raw = torch.cat([projected_text, projected_image], dim=-1)  # (B, 2P)
        mix = self.dynamic_scalar(raw)  # (B, 1)
        combined = self.output_layer(self.dropout(F.relu(self.combiner_layer(raw))))
        return F.normalize(combined + mix * text + (1 - mix) * image, dim=-1)


class CombinerModel(ComposerModule):
    """Both CLIP4Cir stages; stage 1 trains the adapter with a sum, stage 2 the Combiner."""

    stages = ("adapter", "combiner")

    def __init__(self, dim: int, config: CombinerConfig | dict, encoder=None):
        super().__init__()
        config = as_config("combiner", config)
        self.adapter = TextAdapter(dim, config.adapter_hidden)
        self.combiner = Combiner(dim, config.projection_dim, config.hidden_dim, config.dropout)
        self.stage = "combiner"

    def trainable(self, stage: str) -> list[nn.Parameter]:
        return list((self.adapter if stage == "adapter" else self.combiner).parameters())

    def forward(self, batch: dict) -> torch.Tensor:
        text = self.adapter(batch["text"])
        if self.stage == "adapter":
            return F.normalize(batch["reference"] + text, dim=-1)
        return self.combiner(batch["reference"], text)


KIND = ComposerKind(config=CombinerConfig, module=CombinerModel)
