"""Instance descriptors as encoders, so the instance index is built by the main pipeline.

- `HeadDescriptorEncoder`: the trained instance head on the tower's stem map (fashion-mini);
- `GemDescriptorEncoder`: GeM-pooled tower maps (Radenovic et al.) of the luminance image,
  for any encoder with feature maps.
Both output L2-normalised vectors; their fingerprints key the embedding cache.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from retrieval.encoders.base import Encoder, ImageInput
from retrieval.instance.head import DEFAULT_HEAD, InstanceHead

LUMA = (0.299, 0.587, 0.114)


def grey_array(image) -> np.ndarray:
    """An (H, W, 3) uint8 image (array or PIL) in grey, still (H, W, 3) uint8."""
    rgb = np.asarray(image, dtype=np.float32)[..., :3]
    grey = np.clip(np.rint(rgb @ np.array(LUMA, np.float32)), 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def gem(feature_map: torch.Tensor, p: float = 3.0, eps: float = 1e-6) -> torch.Tensor:
    """(B, C, H, W) -> (B, C) generalised mean (p = 1: average, p -> inf: max pooling)."""
    return feature_map.clamp(min=eps).pow(p).mean(dim=(2, 3)).pow(1.0 / p)


def stem_map(tower, batch: torch.Tensor, stage: int) -> torch.Tensor:
    """The tower's map at `stage` (0 = stem) of a preprocessed batch, without later stages."""
    x = tower.stem(batch)
    for block in tower.stages[:stage]:
        x = block(x)
    return x


class _DescriptorEncoder(Encoder):
    """An image-only encoder over a base encoder's tower (no text: instance search is by image)."""

    def __init__(self, base: Encoder):
        self.base, self.device = base, base.device
        self.batch_size = base.batch_size

    @property
    def dtype(self) -> torch.dtype:
        return self.base.dtype

    def _texts(self, texts: list[str]) -> torch.Tensor:
        raise ValueError(f"{self.model_id} describes images only: it has no text tower")


class HeadDescriptorEncoder(_DescriptorEncoder):
    """The trained instance head on fashion-mini's stem map."""

    def __init__(self, base: Encoder, weights: str | Path | None = None):
        super().__init__(base)
        weights = Path(weights or DEFAULT_HEAD)
        self.head, self.info = InstanceHead.load(weights)
        self.head.to(self.device, self.dtype)
        tower_fp = self.info.get("tower_fingerprint")
        if tower_fp and tower_fp != base.fingerprint:
            raise ValueError(
                f"instance head {weights} was trained on the stem of {tower_fp}, not of "
                f"{base.fingerprint}: retrain it with `python -m retrieval.instance.training`"
            )
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:16]
        self.dim = self.head.config.dim
        self.model_id = f"{base.model_id}/instance-head"
        self.fingerprint = f"{base.fingerprint}-instance-head-{digest}"
        self.name = "head"

    def _images(self, images: list[ImageInput]) -> torch.Tensor:
        tower = self.base.image_tower
        return self.head(stem_map(tower, self.base.image_batch(images), self.head.config.stage))


class GemDescriptorEncoder(_DescriptorEncoder):
    """GeM of the base encoder's stage maps (each L2-normalised, concatenated) on grey input;
    an instance index of them is PCA-whitened on the catalogue's photos (`whitens`)."""

    whitens = True

    def __init__(self, base: Encoder, stages: tuple[int, ...] = (3,), p: float = 3.0):
        super().__init__(base)
        if not hasattr(base, "feature_maps"):
            raise ValueError(f"{base.model_id} exposes no feature maps for a GeM descriptor")
        self.stages, self.p = tuple(stages), float(p)
        self.dim = sum(base.feature_widths[s] for s in self.stages)
        tag = f"gem-p{self.p:g}-s{'.'.join(map(str, self.stages))}-luma"
        self.model_id = f"{base.model_id}/{tag}"
        self.fingerprint = f"{base.fingerprint}-{tag}"
        self.name = "gem"

    def _images(self, images: list[ImageInput]) -> torch.Tensor:
        maps = self.base.feature_maps([grey_array(im) for im in images])
        parts = [torch.nn.functional.normalize(gem(maps[s], self.p), dim=1) for s in self.stages]
        return torch.cat(parts, dim=1)


class BackboneGemEncoder(Encoder):
    """GeM of a photo backbone's maps (`retrieval.encoders.photo.backbone.Backbone`), each map
    L2-normalised and concatenated, on grey (`grey=True`) or colour input."""

    def __init__(self, backbone, maps: tuple[int, ...] = (2,), p: float = 3.0, grey=True):
        self.backbone, self.maps, self.p, self.grey = backbone, tuple(maps), float(p), grey
        self.device = torch.device("cpu")
        self.dim = sum(backbone.spec.channels[m] for m in self.maps)
        tag = f"gem-p{self.p:g}-m{'.'.join(map(str, self.maps))}{'-luma' if grey else ''}"
        self.model_id = f"backbone:{backbone.spec.name}/{tag}"
        self.fingerprint = f"{backbone.fingerprint}-{tag}"
        self.batch_size, self.name = 32, "gem"

    def _images(self, images: list[ImageInput]) -> torch.Tensor:
        arrays = [grey_array(im) if self.grey else np.asarray(im) for im in images]
        maps = self.backbone.maps(arrays)
        parts = [
            torch.nn.functional.normalize(gem(torch.from_numpy(maps[m]), self.p), dim=1)
            for m in self.maps
        ]
        return torch.cat(parts, dim=1)

    def _texts(self, texts: list[str]) -> torch.Tensor:
        raise ValueError(f"{self.model_id} describes images only: it has no text tower")
