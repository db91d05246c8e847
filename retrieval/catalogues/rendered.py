"""The rendered Fashion-MNIST catalogue: every real garment in seeded colour/pattern variants.

One class serves both built-in catalogues. Its items are positions of one sequence: the
70,000 garments (train split, then test split) rendered once per variant, variant after
variant. `fmnist-color-variants:N` holds the first N positions; `fmnist-color[:split]` is
variant 0 of one split (the same ids, attributes and images, so cached embeddings are
shared). Variant 0 draws its colours, patterns and pattern phases per split from the
catalogue seed; variant v >= 1 from its own seed.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator, Sequence
from functools import cached_property, lru_cache

import numpy as np

from retrieval.catalogues import fmnist_vocab as vocab
from retrieval.catalogues.base import CatalogueBase, Item, LoadedImage
from retrieval.catalogues.fashion_mnist import load_split
from retrieval.catalogues.render import render

SPLITS = ("train", "test")
ID_PATTERN = re.compile(r"^(train|test)-(\d{5})(?:-v(\d+))?$")


@lru_cache(maxsize=2)
def _split_garments(split: str) -> tuple[np.ndarray, np.ndarray]:
    """(garments (G, 28, 28), labels (G,)) of one split, read once per process, read-only."""
    garments, labels = load_split(split)
    garments.flags.writeable = labels.flags.writeable = False
    return garments, labels


def _split_draws(split: str, seed: int, count: int) -> tuple[np.ndarray, ...]:
    """Colour, pattern and phase draws of variant 0 of a split."""
    rng = np.random.default_rng([seed, 0 if split == "train" else 1])
    colors = rng.integers(len(vocab.COLORS), size=count)
    patterns = rng.integers(len(vocab.PATTERNS), size=count)
    phases = rng.integers(0, 8, size=(count, 2))
    return colors, patterns, phases


class RenderedFashionMnist(CatalogueBase):
    """Real garments x seeded colour/pattern variants, or variant 0 of one split.

    Args:
        splits: the garment splits in item order: ("train", "test") for the variants
            catalogue, one split for fmnist-color.
        count: items (positions) held; at most the garments of `splits` when one split.
        seed: the catalogue seed; size: rendered image side in pixels.
    """

    def __init__(
        self, splits: tuple[str, ...] = SPLITS, count: int | None = None, seed: int = 0, size=64
    ):
        from retrieval.catalogues.schema import fmnist_schema

        parts = [_split_garments(split) for split in splits]
        self.splits = splits
        self.split_sizes = tuple(len(labels) for _, labels in parts)
        self.garments = parts[0][0] if len(parts) == 1 else np.concatenate([g for g, _ in parts])
        self.labels = parts[0][1] if len(parts) == 1 else np.concatenate([lb for _, lb in parts])
        self.count = len(self.labels) if count is None else int(count)
        if self.count <= 0:
            raise ValueError(f"fmnist-color-variants needs a positive item count, not {count}")
        if len(splits) == 1 and self.count > len(self.labels):
            raise ValueError(f"the {splits[0]} split has only {len(self.labels)} garments")
        self.seed, self.size = seed, size
        self.variants = math.ceil(self.count / len(self.labels))
        self.name = (
            f"fmnist-color-{splits[0]}"
            if len(splits) == 1
            else f"fmnist-color-variants-{self.count}"
        )
        self.schema = fmnist_schema()
        draws = [self._variant_draws(v) for v in range(self.variants)]
        self.colors = np.concatenate([d[0] for d in draws])[: self.count]  # (N,)
        self.patterns = np.concatenate([d[1] for d in draws])[: self.count]  # (N,)
        self.phases = np.concatenate([d[2] for d in draws])[: self.count]  # (N, 2)
        self.items = LazyItems(self)

    def _variant_draws(self, variant: int) -> tuple[np.ndarray, ...]:
        if variant == 0:
            # one split draws for the items it holds (a limited fmnist-color has its own draws)
            sizes = self.split_sizes if len(self.splits) > 1 else (self.count,)
            per_split = [_split_draws(s, self.seed, n) for s, n in zip(self.splits, sizes)]
            return tuple(np.concatenate(arrays) for arrays in zip(*per_split))
        if len(self.splits) == 1:
            raise ValueError("a one-split catalogue has variant 0 only")
        rng = np.random.default_rng([self.seed, 2, variant])
        garments = len(self.labels)
        return (
            rng.integers(len(vocab.COLORS), size=garments),
            rng.integers(len(vocab.PATTERNS), size=garments),
            rng.integers(0, 8, size=(garments, 2)),
        )

    def garment_of(self, positions: np.ndarray) -> np.ndarray:
        """Row in `garments` of each item position."""
        return np.asarray(positions, dtype=np.int64) % len(self.labels)

    def _split_and_index(self, garment: int) -> tuple[str, int]:
        for split, size in zip(self.splits, self.split_sizes):
            if garment < size:
                return split, garment
            garment -= size
        raise IndexError(garment)

    def item(self, position: int) -> Item:
        if not 0 <= position < self.count:
            raise IndexError(f"position {position} out of range for {self.count} items")
        variant, garment = divmod(position, len(self.labels))
        split, i = self._split_and_index(garment)
        attributes = {
            "category": vocab.CATEGORIES[self.labels[garment]],
            "color": vocab.COLORS[self.colors[position]],
            "pattern": vocab.PATTERNS[self.patterns[position]],
        }
        suffix = f"-v{variant}" if variant else ""
        return Item(
            id=f"{split}-{i:05d}{suffix}",
            attributes=attributes,
            caption=vocab.caption(**attributes),
            source=f"fashion-mnist:{split}:{i}" + (f":v{variant}" if variant else ""),
        )

    def index_of(self, item_id: str) -> int:
        match = ID_PATTERN.match(item_id)
        if match and match.group(1) in self.splits:
            split, i, variant = match.group(1), int(match.group(2)), int(match.group(3) or 0)
            at = self.splits.index(split)
            offset = sum(self.split_sizes[:at])
            if i < self.split_sizes[at] and (variant > 0 or not match.group(3)):
                position = variant * len(self.labels) + offset + i
                if position < self.count:
                    return position
        raise KeyError(f"no item {item_id!r} in catalogue {self.name!r}")

    def render(self, indices: Sequence[int]) -> np.ndarray:
        """(B, size, size, 3) uint8 images of the given item positions."""
        idx = np.asarray(indices, dtype=np.int64)
        return render(
            self.garments[self.garment_of(idx)],
            self.colors[idx],
            self.patterns[idx],
            self.phases[idx],
            self.size,
        )

    def load(self, indices: Sequence[int]) -> list[LoadedImage]:
        images = self.render(indices)
        return [
            LoadedImage(self.item(int(i)), hashlib.sha256(img.tobytes()).hexdigest(), img)
            for i, img in zip(indices, images)
        ]

    def fingerprint(self) -> str:
        if len(self.splits) == 1:
            return f"{self.name}-seed{self.seed}-{self.size}px-n{self.count}"
        return f"fmnist-color-variants-seed{self.seed}-{self.size}px-n{self.count}"

    @cached_property
    def _shapes(self) -> np.ndarray:
        flat = self.garments.reshape(len(self.garments), -1).astype(np.float32)
        return flat / np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-6)

    def shape_features(self) -> np.ndarray:
        """(N, 784) unit-norm greyscale pixels of each item's garment: colour-free ground
        truth of visual similarity."""
        return self._shapes[self.garment_of(np.arange(self.count))]


class FmnistColorCatalogue(RenderedFashionMnist):
    """fmnist-color: variant 0 of one split's garments (the first `limit` of them)."""

    def __init__(self, split: str = "test", seed: int = 0, size: int = 64, limit=None):
        if split not in SPLITS:
            raise ValueError(f"unknown Fashion-MNIST split {split!r}: use 'train' or 'test'")
        super().__init__((split,), limit, seed, size)


class FmnistVariantsCatalogue(RenderedFashionMnist):
    """fmnist-color-variants: `count` items over all 70,000 garments' variants."""

    def __init__(self, count: int | None = None, seed: int = 0, size: int = 64):
        super().__init__(SPLITS, count, seed, size)


class LazyItems(Sequence):
    """The items of a rendered catalogue, built on access (a million Items take ~0.5 GB)."""

    def __init__(self, catalogue: RenderedFashionMnist):
        self.catalogue = catalogue

    def __len__(self) -> int:
        return self.catalogue.count

    def __getitem__(self, key):
        if isinstance(key, slice):
            return [self.catalogue.item(i) for i in range(*key.indices(len(self)))]
        position = int(key) + (len(self) if int(key) < 0 else 0)
        return self.catalogue.item(position)

    def __iter__(self) -> Iterator[Item]:
        return (self.catalogue.item(i) for i in range(len(self)))


def parse_count(text: str) -> int:
    """'100000', '100k', '1M', '1_000_000' -> an item count."""
    cleaned = text.strip().lower().replace("_", "").replace(",", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(cleaned[-1:], 1)
    digits = cleaned[:-1] if scale > 1 else cleaned
    try:
        count = int(float(digits) * scale)
    except ValueError:
        raise ValueError(
            f"fmnist-color-variants:{text}: the item count must be a number such as 100000 or 1M"
        ) from None
    if count <= 0:
        raise ValueError(f"fmnist-color-variants:{text}: the item count must be positive")
    return count
