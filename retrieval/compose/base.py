"""A composition model maps (reference image vector or None, modification text) to one query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from retrieval.encoders import Encoder
from retrieval.encoders.base import normalize

if TYPE_CHECKING:
    from retrieval.compose.config import ComposerConfig


@runtime_checkable
class TrainableModule(Protocol):
    """What the training loop asks of a composition network."""

    stages: tuple[str | None, ...]  # trained one after the other (None: a single stage)
    uses_triplets: bool  # False: trained on images alone (Pic2Word)
    auxiliary_loss: torch.Tensor | None  # a loss term set by the last forward pass

    def trainable(self, stage: str | None) -> list[nn.Parameter]: ...

    def __call__(self, batch: dict) -> torch.Tensor: ...


class ComposerModule(nn.Module):
    """Base of the trained composition networks: the TrainableModule defaults."""

    stages: tuple[str | None, ...] = (None,)
    uses_triplets = True
    auxiliary_loss: torch.Tensor | None = None
    stage: str | None = None

    def trainable(self, stage: str | None) -> list[nn.Parameter]:
        return list(self.parameters())

    def image_loss(self, images: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} trains on triplets")


class Composer:
    """Base class; subclasses implement `_compose` for rows that have both a reference and text."""

    name: str = ""

    def __init__(self, encoder: Encoder, config: ComposerConfig, rewriter=None):
        self.encoder = encoder
        self.config = config

    needs_images = False  # True for models that read the reference images themselves (cmap)

    def compose(
        self,
        references: np.ndarray | None,
        texts: Sequence[str],
        reference_images: Sequence[np.ndarray] | None = None,
    ) -> np.ndarray:
        """(B, D) normalised queries; a row without a reference is a text search, without text an image search.

        Args:
            references: (B, D) reference image vectors, or None when no row has one
                (rows of zeros also mean "no reference").
            texts: B modification texts ("" for none).
            reference_images: B (H, W, 3) uint8 reference images, for models that need them.
        """
        texts = list(texts)
        if references is None:
            references = np.zeros((len(texts), self.encoder.dim), np.float32)
        references = np.asarray(references, np.float32).reshape(len(texts), -1)
        has_ref = np.linalg.norm(references, axis=1) > 0
        has_text = np.array([bool(t.strip()) for t in texts])
        if not (has_ref | has_text).all():
            raise ValueError("every query needs a reference image, a text, or both")
        out = np.zeros((len(texts), self.encoder.dim), np.float32)
        text_only = ~has_ref
        if text_only.any():
            out[text_only] = self.encoder.encode_texts([t for t, m in zip(texts, text_only) if m])
        image_only = has_ref & ~has_text
        out[image_only] = references[image_only]
        both = has_ref & has_text
        if both.any():
            images = None
            if self.needs_images:
                if reference_images is None:
                    raise ValueError(f"composition model {self.name!r} needs the reference images")
                images = [img for img, m in zip(reference_images, both) if m]
            out[both] = self._compose(
                references[both], [t for t, m in zip(texts, both) if m], images
            )
        return normalize(out)

    def _compose(self, references: np.ndarray, texts: list[str], images=None) -> np.ndarray:
        raise NotImplementedError
