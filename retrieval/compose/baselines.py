"""Training-free composition: image-only, text-only, weighted sum, and CIReVL-style editing."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from retrieval.compose.base import Composer


class ImageOnly(Composer):
    name = "image-only"

    def _compose(self, references: np.ndarray, texts: list[str], images=None) -> np.ndarray:
        return references


class TextOnly(Composer):
    name = "text-only"

    def _compose(self, references: np.ndarray, texts: list[str], images=None) -> np.ndarray:
        return self.encoder.encode_texts(texts)


class WeightedSum(Composer):
    """Late fusion: w * image + (1 - w) * text."""

    name = "sum"

    def _compose(self, references: np.ndarray, texts: list[str], images=None) -> np.ndarray:
        weight = self.config.image_weight
        return weight * references + (1 - weight) * self.encoder.encode_texts(texts)


class ReadsEdits(Protocol):
    """Reads a request into attribute changes: the agent's rewriter."""

    def rewrite(self, text: str): ...  # -> .constraints (attribute, value, polarity), .unmapped


class EditedDescription(Composer):
    """CIReVL without an LLM: describe the reference by its nearest caption prompt, apply the
    requested attribute changes to that description, encode it, and add some of the image."""

    name = "cirevl"

    def __init__(self, encoder, config, rewriter: ReadsEdits | None = None):
        super().__init__(encoder, config)
        if rewriter is None:
            raise ValueError("cirevl reads each request's attribute changes: give it a rewriter")
        from retrieval.catalogues.fmnist_vocab import attribute_combinations, caption

        self.rewriter = rewriter
        self.combinations = attribute_combinations()
        self.prompts = encoder.encode_texts([caption(**c) for c in self.combinations])  # (480, D)
        self._caption = caption

    def describe(self, references: np.ndarray) -> list[dict[str, str]]:
        """Attributes of the nearest caption prompt to each reference vector."""
        return [self.combinations[i] for i in (references @ self.prompts.T).argmax(1)]

    def edit(self, description: dict[str, str], text: str) -> str:
        read = self.rewriter.rewrite(text)
        wanted = {c.attribute: c.value for c in read.constraints if c.polarity == "require"}
        edited = {**description, **wanted}
        described = self._caption(edited["category"], edited["color"], edited["pattern"])
        if self.config.keep_unparsed and read.unmapped:
            return f"{described} {read.unmapped}"
        return described

    def _compose(self, references: np.ndarray, texts: list[str], images=None) -> np.ndarray:
        weight = self.config.image_weight
        edited = [self.edit(d, t) for d, t in zip(self.describe(references), texts)]
        return self.encoder.encode_texts(edited) + weight * references
