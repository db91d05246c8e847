"""The one encoder API: images and texts to L2-normalised float32 vectors."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import torch
from PIL import Image

from retrieval.threads import SMALL_BATCH, for_batch, per_core_map

TEXT_CACHE_SIZE = 4096  # recent short texts and their vectors, per encoder

ImageInput = np.ndarray | Image.Image
_ENCODE_LOCK = threading.RLock()


def pick_device(device: str | None = None) -> torch.device:
    """CUDA where present (unless told otherwise), else CPU."""
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_pil(image: ImageInput) -> Image.Image:
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {array.shape} {array.dtype}")
    return Image.fromarray(array)


def normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


@runtime_checkable
class PseudoWordEncoder(Protocol):
    """An encoder whose text tower reads pseudo-word embeddings (Pic2Word)."""

    word_dim: int

    def encode_with_pseudo_words(
        self, templates: list[str], pseudo: torch.Tensor, placeholder: str = "*"
    ) -> torch.Tensor: ...


@runtime_checkable
class FeatureMapEncoder(Protocol):
    """An encoder that exposes its image tower's stage maps (CMAP)."""

    feature_widths: tuple[int, ...]  # channels of each map

    def feature_maps(self, images: list) -> list[torch.Tensor]: ...


class Encoder:
    """Base class of every back end.

    Subclasses set `model_id`, `dim`, `device` and implement `_images` and `_texts`,
    which take one batch and return a (B, D) tensor.
    """

    model_id: str
    dim: int
    device: torch.device
    fingerprint: str = ""  # changes whenever the weights change (keys the embedding cache)
    batch_size: int = 256
    composer_dir = None  # where composition models trained for it live (None: $CIRCHAT_HOME)

    @property
    def parallel_batches(self) -> int:
        """Batches encoded at once: one per core on a CPU; on a GPU two, so that one batch is
        loaded and preprocessed while the other runs."""
        return torch.get_num_threads() if self.device.type == "cpu" else 2

    @property
    def dtype(self) -> torch.dtype:
        return torch.float16 if self.device.type == "cuda" else torch.float32

    def encode_images(
        self, images: Sequence[ImageInput], batch_size: int | None = None
    ) -> np.ndarray:
        """(N, D) L2-normalised float32 vectors of RGB images (batches run one per core)."""
        images = list(images)
        size = batch_size or self.batch_size
        if len(images) <= size:
            return self._batched(self._images, images, size)
        batches = [images[i : i + size] for i in range(0, len(images), size)]
        with _ENCODE_LOCK:
            return np.concatenate(
                list(per_core_map(self.encode_image_batch, batches, self.parallel_batches))
            )

    def encode_image_batch(self, images: Sequence[ImageInput]) -> np.ndarray:
        """(B, D) vectors of one batch, computed on the calling thread with its torch settings.

        Thread-safe (no lock, no change of torch's thread count): what callers running
        batches in parallel use (encode_images, index builds)."""
        if not len(images):
            return np.zeros((0, self.dim), np.float32)
        with torch.inference_mode():
            return normalize(self._images(list(images)).float().cpu().numpy())

    def encode_texts(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """(N, D) L2-normalised float32 vectors of texts."""
        if isinstance(texts, str):
            raise TypeError("encode_texts takes a list of strings, not one string")
        texts = list(texts)
        if 0 < len(texts) <= SMALL_BATCH:  # a shopper's turn: reuse what was said before
            return np.stack([self._cached_text(t) for t in texts])
        return self._batched(self._texts, texts, batch_size)

    def _cached_text(self, text: str) -> np.ndarray:
        with _ENCODE_LOCK:  # sessions share the encoder: the LRU is changed by one at a time
            cache = self.__dict__.setdefault("_text_cache", OrderedDict())
            if text in cache:
                cache.move_to_end(text)
                return cache[text]
            vector = self._batched(self._texts, [text], None)[0]
            vector.setflags(write=False)
            cache[text] = vector
            if len(cache) > TEXT_CACHE_SIZE:
                cache.popitem(last=False)
            return vector

    def _batched(self, fn, inputs: list, batch_size: int | None) -> np.ndarray:
        if not inputs:
            return np.zeros((0, self.dim), np.float32)
        size = batch_size or self.batch_size
        with (
            _ENCODE_LOCK,
            for_batch(len(inputs)),
            torch.inference_mode(),
        ):  # HF fast tokenizers are not thread-safe
            parts = [
                fn(inputs[i : i + size]).float().cpu().numpy() for i in range(0, len(inputs), size)
            ]
        return normalize(np.concatenate(parts))

    def _images(self, images: list[ImageInput]) -> torch.Tensor:
        raise NotImplementedError

    def _texts(self, texts: list[str]) -> torch.Tensor:
        raise NotImplementedError
