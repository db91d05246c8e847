"""Training-free composition: image-only, text-only, weighted sum, and CIReVL-style editing."""

from __future__ import annotations

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
        weight = float(self.config.get("image_weight", 0.5))
        return weight * references + (1 - weight) * self.encoder.encode_texts(texts)


class EditedDescription(Composer):
    """CIReVL without an LLM: describe the reference by its nearest caption prompt, apply the
    requested attribute changes to that description, encode it, and add some of the image."""

    name = "cirevl"

    def __init__(self, encoder, config: dict):
        super().__init__(encoder, config)
        from retrieval.attributes import AttributeParser
        from retrieval.vocab import attribute_combinations, caption

        self.parser = AttributeParser()
        self.combinations = attribute_combinations()
        self.prompts = encoder.encode_texts([caption(**c) for c in self.combinations])  # (480, D)
        self._caption = caption

    def describe(self, references: np.ndarray) -> list[dict[str, str]]:
        """Attributes of the nearest caption prompt to each reference vector."""
        return [self.combinations[i] for i in (references @ self.prompts.T).argmax(1)]

    def edit(self, description: dict[str, str], text: str) -> str:
        from retrieval.attributes import apply_mentions, tokenize

        mentions = self.parser.parse(text)
        edited = {**description, **apply_mentions({}, mentions)}
        words = tokenize(text)
        known = {i for m in mentions for i in range(m.start, m.end)}
        rest = " ".join(w for i, w in enumerate(words) if i not in known and w not in _FILLER)
        described = self._caption(edited["category"], edited["color"], edited["pattern"])
        return (
            f"{described} {rest}".strip() if self.config.get("keep_unparsed", True) else described
        )

    def _compose(self, references: np.ndarray, texts: list[str], images=None) -> np.ndarray:
        weight = float(self.config.get("image_weight", 0.3))
        edited = [self.edit(d, t) for d, t in zip(self.describe(references), texts)]
        return self.encoder.encode_texts(edited) + weight * references


_FILLER = {
    "make",
    "it",
    "in",
    "a",
    "an",
    "the",
    "with",
    "same",
    "but",
    "instead",
    "and",
    "change",
    "to",
    "colour",
    "color",
    "i",
    "want",
    "please",
    "one",
    "as",
    "look",
    "have",
    "add",
    "id",
    "i'd",
    "like",
    "turn",
    "also",
    "pattern",
    "of",
    "pair",
    "so",
}
