"""A small head on the image tower's stem map, trained to recognise a garment in any colourway."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from retrieval.checkpoint import SavedModule

DEFAULT_HEAD = Path(__file__).resolve().parent.parent / "weights" / "instance-head.safetensors"


@dataclass(frozen=True)
class InstanceHeadConfig:
    """Which tower map the head reads, its conv widths (each halves the grid) and output size."""

    stage: int = 0  # 0: the tower's stem (32x32 for a 64 px image)
    in_channels: int = 32
    widths: tuple[int, ...] = (64, 128, 128)
    grid: int = 4  # the last map is flattened at this side (where, not only what)
    dim: int = 128


class InstanceHead(SavedModule, nn.Module):
    """(B, C, H, W) tower map -> (B, dim) un-normalised instance descriptor."""

    config_class = InstanceHeadConfig

    def __init__(self, config: InstanceHeadConfig = InstanceHeadConfig()):
        super().__init__()
        self.config = config
        layers, width = [], config.in_channels
        for out in config.widths:
            layers += [
                nn.Conv2d(width, out, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(out),
                nn.ReLU(inplace=True),
            ]
            width = out
        self.convs = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(config.grid)
        self.proj = nn.Linear(width * config.grid * config.grid, config.dim)

    def forward(self, feature_map: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.convs(feature_map))  # (B, W, G, G)
        return self.proj(x.flatten(1))  # (B, dim)

    @classmethod
    def load(cls, path: str | Path) -> tuple[InstanceHead, dict]:
        """The head saved at `path` (.safetensors, its .json beside it) in eval mode, and its info."""
        if not Path(path).exists():
            raise FileNotFoundError(
                f"instance head weights {path} not found: train them with "
                "`python -m retrieval.instance.training`"
            )
        return super().load(path)
