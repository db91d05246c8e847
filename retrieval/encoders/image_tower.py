"""The small CNN image tower of fashion-mini, with multi-level feature maps."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from retrieval.checkpoint import SavedModule


@dataclass(frozen=True)
class ImageTowerConfig:
    image_size: int = 64
    widths: tuple[int, ...] = (32, 64, 128, 256)
    embed_dim: int = 384
    layout_channels: int = (
        64  # the last map is also kept spatially (sleeves, collars: where, not just what)
    )
    mean: float = 0.5
    std: float = 0.25


def _block(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class ImageTower(SavedModule, nn.Module):
    """64x64 RGB -> (B, embed_dim); `features` also returns each stage's map."""

    config_class = ImageTowerConfig

    def __init__(self, config: ImageTowerConfig = ImageTowerConfig()):
        super().__init__()
        self.config = config
        w = config.widths
        # stem: 4x4 stride-2 patches see a whole period of the thin pattern lines
        self.stem = nn.Sequential(
            nn.Conv2d(3, w[0], 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(w[0]),
            nn.ReLU(inplace=True),
        )
        self.stages = nn.ModuleList(_block(w[i], w[i + 1], stride=2) for i in range(len(w) - 1))
        grid = config.image_size // 2 ** len(w)
        self.layout = (
            nn.Sequential(
                nn.Conv2d(w[-1], config.layout_channels, 1, bias=False),
                nn.BatchNorm2d(config.layout_channels),
                nn.ReLU(inplace=True),
            )
            if config.layout_channels
            else None
        )
        self.head = nn.Linear(2 * w[-1] + config.layout_channels * grid * grid, config.embed_dim)

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """(B, H, W, 3) uint8 -> normalised (B, 3, S, S) float."""
        x = images.permute(0, 3, 1, 2).float() / 255.0
        size = self.config.image_size
        if x.shape[-2:] != (size, size):
            x = nn.functional.interpolate(x, size=(size, size), mode="bilinear", antialias=True)
        return (x - self.config.mean) / self.config.std

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps of every stage: [(B, C1, 32, 32), (B, C2, 16, 16), ...]."""
        maps = [self.stem(x)]
        for stage in self.stages:
            maps.append(stage(maps[-1]))
        return maps

    def pool(self, last_map: torch.Tensor) -> torch.Tensor:
        """(B, 2C + L*G*G): global mean and max, and the flattened layout map."""
        pooled = [last_map.mean(dim=(2, 3)), last_map.amax(dim=(2, 3))]
        if self.layout is not None:
            pooled.append(self.layout(last_map).flatten(1))
        return torch.cat(pooled, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.features(x)[-1]))  # (B, D)
