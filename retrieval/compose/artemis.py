"""ARTEMIS (Delmas et al., ICLR 2022): Explicit Matching + Implicit Similarity.

score(r, m, t) = <A_EM(m) * t, T(m)> + <A_IS(m) * r, A_IS(m) * t>. Both terms are linear in
t, so the score equals <q, t> with q = T(m) * A_EM(m) + A_IS(m)^2 * r: one query vector
searched in the ordinary index.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from retrieval.compose.base import ComposerModule
from retrieval.compose.config import ComposerConfig, as_config
from retrieval.compose.kinds import ComposerKind


class ArtemisConfig(ComposerConfig):
    kind: Literal["artemis"]
    hidden_dim: int


def _attention(dim: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))


class Artemis(ComposerModule):
    def __init__(self, dim: int, config: ArtemisConfig | dict, encoder=None):
        super().__init__()
        config = as_config("artemis", config)
        hidden = config.hidden_dim
        self.text_transform = nn.Sequential(
            nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, dim)
        )
        self.attention_em = _attention(dim, hidden)
        self.attention_is = _attention(dim, hidden)

    def attentions(self, text: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """T(m), A_EM(m), A_IS(m): each (B, D); attentions are positive with mean about 1."""
        dim = text.shape[-1]
        transformed = F.normalize(text + self.text_transform(text), dim=-1)
        a_em = dim * torch.softmax(self.attention_em(text), dim=-1)
        a_is = (dim * torch.softmax(self.attention_is(text), dim=-1)).sqrt()
        return transformed, a_em, a_is

    def pairwise_score(
        self, reference: torch.Tensor, text: torch.Tensor, target: torch.Tensor
    ) -> torch.Tensor:
        """(B,) the paper's score of each (r, m, t) row."""
        transformed, a_em, a_is = self.attentions(text)
        explicit = ((a_em * target) * transformed).sum(-1)
        implicit = ((a_is * reference) * (a_is * target)).sum(-1)
        return explicit + implicit

    def forward(self, batch: dict) -> torch.Tensor:
        transformed, a_em, a_is = self.attentions(batch["text"])
        return transformed * a_em + a_is.pow(2) * batch["reference"]  # (B, D), not normalised


KIND = ComposerKind(config=ArtemisConfig, module=Artemis)
