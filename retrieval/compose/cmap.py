"""A composition model in the spirit of CMAP (Li et al., TOMM 2024).

The text attends over several levels of the reference's feature maps (cross-level
interaction). A text-driven gate splits the image tokens into a "modified" and a "preserved"
part; a self-contrastive term asks the modified part, not the preserved one, to match the
text, so the preserved features stay free of what the text changes. The query mixes the
preserved features, the text-attended features, the text and the reference vector.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from retrieval.compose.base import ComposerModule
from retrieval.compose.config import ComposerConfig, as_config
from retrieval.compose.kinds import ComposerKind
from retrieval.encoders.base import FeatureMapEncoder

# Stage maps used and the grid each is pooled to (tokens per level = grid ** 2).
LEVEL_GRIDS = (2, 2, 4)


class CmapConfig(ComposerConfig):
    kind: Literal["cmap"]
    hidden_dim: int
    heads: int
    dropout: float
    self_contrast_temperature: float


def pooled_levels(maps: list[torch.Tensor]) -> list[torch.Tensor]:
    """Image-tower stage maps -> tokens per level: [(B, grid*grid, C), ...]."""
    levels = maps[-len(LEVEL_GRIDS) :]
    return [
        F.adaptive_avg_pool2d(m.float(), g).flatten(2).transpose(1, 2)
        for m, g in zip(levels, LEVEL_GRIDS)
    ]


def feature_map_levels(encoder, images: list) -> dict[str, list[torch.Tensor]]:
    """CMAP's input hook: the reference images' pooled feature-map levels."""
    return {"levels": pooled_levels(encoder.feature_maps(list(images)))}


class CmapStyle(ComposerModule):
    def __init__(self, dim: int, config: CmapConfig | dict, encoder=None):
        super().__init__()
        config = as_config("cmap", config)
        if not isinstance(encoder, FeatureMapEncoder):
            raise ValueError("cmap needs an encoder that exposes feature maps (fashion-mini)")
        widths = encoder.feature_widths[-len(LEVEL_GRIDS) :]
        hidden = config.hidden_dim
        self.level_projections = nn.ModuleList(nn.Linear(c, hidden) for c in widths)
        self.level_embeddings = nn.Parameter(torch.zeros(len(widths), hidden))
        self.norm = nn.LayerNorm(hidden)
        self.text_query = nn.Linear(dim, hidden)
        self.cross_attention = nn.MultiheadAttention(hidden, config.heads, batch_first=True)
        self.part_projection = nn.Linear(hidden, dim)
        self.fuse = nn.Sequential(
            nn.Linear(3 * hidden, 2 * hidden),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(2 * hidden, dim),
        )
        self.mix = nn.Linear(dim, 1)
        self.contrast_temperature = config.self_contrast_temperature
        self.auxiliary_loss = torch.tensor(0.0)

    def tokens(self, levels: list[torch.Tensor]) -> torch.Tensor:
        parts = [
            proj(level) + emb
            for proj, level, emb in zip(self.level_projections, levels, self.level_embeddings)
        ]
        return self.norm(torch.cat(parts, dim=1))  # (B, N, H)

    def forward(self, batch: dict) -> torch.Tensor:
        text, reference = batch["text"], batch["reference"]
        tokens = self.tokens(batch["levels"])  # (B, N, H)
        query = self.text_query(text)  # (B, H)
        gate = torch.sigmoid((tokens @ query[:, :, None]).squeeze(-1) / tokens.shape[-1] ** 0.5)
        modified = (gate[..., None] * tokens).sum(1) / gate.sum(1, keepdim=True).clamp(min=1e-6)
        kept = 1 - gate
        preserved = (kept[..., None] * tokens).sum(1) / kept.sum(1, keepdim=True).clamp(min=1e-6)
        attended, _ = self.cross_attention(query[:, None], tokens, tokens)  # (B, 1, H)
        fused = self.fuse(torch.cat([preserved, attended[:, 0], query], dim=-1))  # (B, D)
        mix = torch.sigmoid(self.mix(text))
        self.auxiliary_loss = self._self_contrast(modified, preserved, text)
        return F.normalize(fused + mix * text + (1 - mix) * reference, dim=-1)

    def _self_contrast(self, modified, preserved, text) -> torch.Tensor:
        parts = F.normalize(self.part_projection(torch.stack([modified, preserved], 1)), dim=-1)
        logits = (parts @ text[:, :, None]).squeeze(-1) / self.contrast_temperature  # (B, 2)
        return F.cross_entropy(logits, torch.zeros(len(text), dtype=torch.long))


KIND = ComposerKind(config=CmapConfig, module=CmapStyle, image_inputs=feature_map_levels)
