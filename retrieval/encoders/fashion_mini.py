"""fashion-mini: frozen all-MiniLM-L6-v2 text tower + a small trained CNN image tower."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from retrieval.encoders.base import Encoder, ImageInput, pick_device
from retrieval.encoders.image_tower import ImageTower
from retrieval.encoders.minilm import MiniLMTextSide, MiniLMTextTower

DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "fashion-mini.safetensors"


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


class FashionMiniEncoder(MiniLMTextSide, Encoder):
    """The embedded default model; `weights` is a .safetensors file with a .json beside it."""

    def __init__(self, weights: str | Path | None = None, device: str | None = None):
        weights = Path(weights or DEFAULT_WEIGHTS)
        if not weights.exists():
            raise FileNotFoundError(
                f"fashion-mini weights {weights} not found: train them with `circhat train encoder`"
            )
        self.device = pick_device(device)
        self.image_tower, self.info = ImageTower.load(weights)
        self.image_tower.to(self.device, self.dtype)
        self.text_tower = MiniLMTextTower().to(self.device, self.dtype)
        self.dim = self.image_tower.config.embed_dim
        self.model_id = "fashion-mini" if weights == DEFAULT_WEIGHTS else f"fashion-mini:{weights}"
        self.fingerprint = f"fashion-mini-{file_digest(weights)}"
        self.weights = weights
        self.batch_size = 64 if self.device.type == "cpu" else 256  # 64: fastest per core

    def image_batch(self, images: list[ImageInput]) -> torch.Tensor:
        """(B, 3, S, S) preprocessed tensor on the device."""
        size = self.image_tower.config.image_size
        arrays = []
        for image in images:
            array = np.asarray(image.convert("RGB") if hasattr(image, "convert") else image)
            if array.shape[:2] != (size, size):
                from PIL import Image

                array = np.asarray(Image.fromarray(array).resize((size, size), Image.BICUBIC))
            arrays.append(array)
        batch = torch.from_numpy(np.stack(arrays)).to(self.device)
        return self.image_tower.preprocess(batch).to(self.dtype)

    def _images(self, images: list[ImageInput]) -> torch.Tensor:
        return self.image_tower(self.image_batch(images))

    # --- hooks for composition models (pic2word: MiniLMTextSide; cmap: the maps) ---

    @property
    def feature_widths(self) -> tuple[int, ...]:
        return self.image_tower.config.widths

    def feature_maps(self, images: list[ImageInput]) -> list[torch.Tensor]:
        """Every stage's feature map of the image tower: [(B, C, H, W), ...] from fine to coarse."""
        with torch.inference_mode():
            return self.image_tower.features(self.image_batch(images))
