"""Large galleries: every real Fashion-MNIST garment rendered in several seeded colour variants.

`fmnist-color-variants:N` holds N items: the 70,000 garments (train split, then test split)
rendered once per variant, variant after variant, truncated to N. Variant 0 is exactly the
fmnist-color catalogue (same ids, attributes and images, so cached embeddings are shared);
variant v >= 1 draws its colours, patterns and pattern phases from its own seed.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache

import numpy as np

from retrieval import vocab
from retrieval.catalogue import Catalogue, Item, LoadedImage
from retrieval.fmnist import load_split
from retrieval.render import render

SPLITS = ("train", "test")
ID_PATTERN = re.compile(r"^(train|test)-(\d{5})(?:-v(\d+))?$")


@lru_cache(maxsize=1)
def _all_garments() -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Every garment of the train then the test split (read once per process, read-only)."""
    parts = [load_split(split) for split in SPLITS]
    garments = np.concatenate([g for g, _ in parts])
    labels = np.concatenate([labels for _, labels in parts])
    garments.flags.writeable = labels.flags.writeable = False
    return garments, labels, tuple(len(labels) for _, labels in parts)


def _split_draws(split: str, seed: int, count: int) -> tuple[np.ndarray, ...]:
    """The colour, pattern and phase draws of FmnistColorCatalogue(split, seed) (variant 0)."""
    rng = np.random.default_rng([seed, 0 if split == "train" else 1])
    colors = rng.integers(len(vocab.COLORS), size=count)
    patterns = rng.integers(len(vocab.PATTERNS), size=count)
    phases = rng.integers(0, 8, size=(count, 2))
    return colors, patterns, phases


class FmnistVariantsCatalogue(Catalogue):
    """N items: 70,000 real garments x ceil(N / 70,000) seeded colour/pattern variants."""

    def __init__(self, count: int | None = None, seed: int = 0, size: int = 64):
        self.garments, self.labels, self.split_sizes = _all_garments()  # (G, 28, 28), (G,)
        garments = len(self.labels)
        self.count = garments if count is None else int(count)
        if self.count <= 0:
            raise ValueError(f"fmnist-color-variants needs a positive item count, not {count}")
        self.seed, self.size = seed, size
        self.variants = math.ceil(self.count / garments)
        self.name = f"fmnist-color-variants-{self.count}"
        draws = [self._variant_draws(v) for v in range(self.variants)]
        self.colors = np.concatenate([d[0] for d in draws])[: self.count]  # (N,)
        self.patterns = np.concatenate([d[1] for d in draws])[: self.count]  # (N,)
        self.phases = np.concatenate([d[2] for d in draws])[: self.count]  # (N, 2)
        self.items = LazyItems(self)

    def _variant_draws(self, variant: int) -> tuple[np.ndarray, ...]:
        if variant == 0:
            per_split = [_split_draws(s, self.seed, n) for s, n in zip(SPLITS, self.split_sizes)]
            return tuple(np.concatenate(arrays) for arrays in zip(*per_split))
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
        train = self.split_sizes[0]
        return ("train", garment) if garment < train else ("test", garment - train)

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
        if match:
            split, i, variant = match.group(1), int(match.group(2)), int(match.group(3) or 0)
            offset = 0 if split == "train" else self.split_sizes[0]
            if i < self.split_sizes[SPLITS.index(split)] and (variant > 0 or not match.group(3)):
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
        return f"fmnist-color-variants-seed{self.seed}-{self.size}px-n{self.count}"


class LazyItems(Sequence):
    """The items of a variants catalogue, built on access (a million Items take ~0.5 GB)."""

    def __init__(self, catalogue: FmnistVariantsCatalogue):
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
