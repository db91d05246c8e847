"""fashion-mini: frozen all-MiniLM-L6-v2 text tower + a small trained CNN image tower."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from retrieval.encoders.base import Encoder, ImageInput, pick_device
from retrieval.encoders.image_tower import ImageTower
from retrieval.encoders.minilm import MiniLMTextTower

DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "fashion-mini.safetensors"


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


class FashionMiniEncoder(Encoder):
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

    def _texts(self, texts: list[str]) -> torch.Tensor:
        return self.text_tower(texts)

    # --- hooks for composition models (pic2word, cmap) ---

    @property
    def word_dim(self) -> int:
        return self.text_tower.input_embeddings().embedding_dim

    def encode_with_pseudo_words(
        self, templates: list[str], pseudo: torch.Tensor, placeholder: str = "*"
    ) -> torch.Tensor:
        return splice_pseudo_words(self.text_tower, self.device, templates, pseudo, placeholder)

    @property
    def feature_widths(self) -> tuple[int, ...]:
        return self.image_tower.config.widths

    def feature_maps(self, images: list[ImageInput]) -> list[torch.Tensor]:
        """Every stage's feature map of the image tower: [(B, C, H, W), ...] from fine to coarse."""
        with torch.inference_mode():
            return self.image_tower.features(self.image_batch(images))


def splice_pseudo_words(
    tower: MiniLMTextTower, device, templates: list[str], pseudo: torch.Tensor, placeholder: str
) -> torch.Tensor:
    """(B, D) un-normalised text features, with `placeholder` replaced by pseudo[b] (B, W).

    Differentiable in `pseudo` (Pic2Word trains through the frozen text tower).
    """
    tokens = {k: v.to(device) for k, v in tower.tokenize(templates).items()}
    placeholder_id = tower.tokenizer.convert_tokens_to_ids(placeholder)
    slots = tokens["input_ids"] == placeholder_id  # (B, T)
    if not bool(slots.any(1).all()):
        raise ValueError(f"every template needs the placeholder {placeholder!r}")
    embeds = tower.input_embeddings()(tokens["input_ids"])  # (B, T, W)
    embeds = torch.where(slots[..., None], pseudo[:, None, :].to(embeds.dtype), embeds)
    return tower.forward_embeds(embeds, tokens["attention_mask"])
