"""A product photo's descriptor: what the backbone sees, plus the colour it barely keeps.

The backbone's pooled head knows the kind of item (nearest-neighbour article type 0.87 on
fashion-products) but little of its colour (0.34). Earlier stages and a colour histogram of
the product's own pixels carry the colour, so the descriptor concatenates: the pooled head
(1280), the foreground-masked means of stage 2 (40) and stage 4 (112), and the square root of
a 12 x 4 x 4 HSV histogram of the foreground (192). The foreground is every pixel but the
near-white background that touches the photo's border (product shots on white).
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from retrieval.encoders.photo.backbone import Backbone

WHITE = 235  # a background pixel has every channel at least this bright ...
MIN_FOREGROUND = 0.02  # ... unless that leaves less than this share: then use the whole photo
HSV_BINS = (12, 4, 4)
MASKED_MAPS = (0, 1)  # the tapped stage maps pooled over the foreground (the head is not)


def foreground(image: np.ndarray) -> np.ndarray:
    """(H, W) bool: not the near-white background connected to the border."""
    white = image.min(axis=2) >= WHITE
    labels, _ = ndimage.label(white)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    mask = ~np.isin(labels, border[border > 0])
    return mask if mask.mean() >= MIN_FOREGROUND else np.ones_like(mask)


def hsv_histogram(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(192,) square root of the share of foreground pixels in each hue x saturation x value bin."""
    hsv = np.asarray(Image.fromarray(image).convert("HSV"))[mask].astype(np.int64)  # (P, 3)
    h, s, v = HSV_BINS
    bins = (hsv[:, 0] * h >> 8) * (s * v) + (hsv[:, 1] * s >> 8) * v + (hsv[:, 2] * v >> 8)
    counts = np.bincount(bins, minlength=h * s * v).astype(np.float32)
    return np.sqrt(counts / max(len(hsv), 1))


def _masked_mean(maps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """(B, C) mean of (B, C, h, w) maps weighted by each cell's share of foreground pixels."""
    b, _, h, w = maps.shape
    cells = (
        np.stack(
            [
                np.asarray(Image.fromarray(m.astype(np.uint8) * 255).resize((w, h), Image.BOX))
                for m in masks
            ]
        ).astype(np.float32)
        / 255.0
    )  # (B, h, w)
    weight = cells.sum(axis=(1, 2)) + 1e-6
    return np.einsum("bchw,bhw->bc", maps, cells) / weight[:, None]


class Describer:
    """Descriptors of photos with a backbone (1624 numbers for EfficientNet-Lite0)."""

    def __init__(self, backbone: Backbone):
        self.backbone = backbone
        channels = backbone.spec.channels
        self.dim = channels[-1] + sum(channels[i] for i in MASKED_MAPS) + int(np.prod(HSV_BINS))
        self.fingerprint = f"descriptor-v1-{backbone.fingerprint}"

    def describe(
        self, images: list[np.ndarray], maps: list[np.ndarray] | None = None
    ) -> np.ndarray:
        """(B, dim) float32 descriptors; `maps` are the backbone's, when already computed."""
        size = self.backbone.spec.image_size
        resized = [
            a
            if a.shape[:2] == (size, size)
            else np.asarray(Image.fromarray(a).resize((size, size), Image.BILINEAR))
            for a in images
        ]
        masks = np.stack([foreground(a) for a in resized])  # (B, S, S)
        maps = maps if maps is not None else self.backbone.maps(resized)
        parts = [maps[-1].mean(axis=(2, 3))]  # (B, 1280) the head, pooled over the whole photo
        parts += [_masked_mean(maps[i], masks) for i in MASKED_MAPS]
        parts.append(np.stack([hsv_histogram(a, m) for a, m in zip(resized, masks)]))
        return np.concatenate(parts, axis=1).astype(np.float32)
