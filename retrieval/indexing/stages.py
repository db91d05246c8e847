"""The stages of embedding a catalogue: read a batch -> look it up in the cache -> encode the
misses -> write them to the cache. The local and the Ray engine both run `embed_batch` on
batches of positions and write what it returns; each stage is a plain function.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.catalogues.base import Catalogue, LoadedImage
from retrieval.encoders import Encoder
from retrieval.index.store import SkippedItem
from retrieval.indexing.embedding_cache import EmbeddingCache


@dataclass
class EmbeddedBatch:
    """One batch after the stages: every item read, the readable ones and their vectors."""

    loaded: list[LoadedImage]
    readable: list[LoadedImage]
    vectors: np.ndarray | None  # (R, D) for the readable items, None when there are none
    fresh: int  # vectors computed by the encoder (the rest came from the cache)

    @property
    def skipped(self) -> list[SkippedItem]:
        return [
            SkippedItem(id=b.item.id, source=b.item.source, reason=b.error)
            for b in self.loaded
            if b.image is None
        ]


def position_batches(stop: int, batch_size: int, start: int = 0) -> Iterator[range]:
    """Consecutive ranges of at most `batch_size` positions covering [start, stop)."""
    return (range(a, min(a + batch_size, stop)) for a in range(start, stop, batch_size))


def look_up(batch: Sequence[LoadedImage], encoder: Encoder, cache: EmbeddingCache | None):
    """Cached vectors of a batch (None where missing)."""
    if cache is None:
        return [None] * len(batch)
    return cache.get_many(encoder.fingerprint, [b.content_hash for b in batch])


def embed_loaded(
    batch: Sequence[LoadedImage], encoder: Encoder, cache: EmbeddingCache | None
) -> tuple[np.ndarray, int]:
    """Vectors of a batch of loaded images; only cache misses reach the encoder, and their
    vectors are written to the cache."""
    found = look_up(batch, encoder, cache)
    missing = [i for i, v in enumerate(found) if v is None]
    if missing:
        fresh = encoder.encode_image_batch([batch[i].image for i in missing])
        for i, vector in zip(missing, fresh):
            found[i] = vector
        if cache is not None:
            hashes = [batch[i].content_hash for i in missing]
            cache.put_many(encoder.fingerprint, hashes, fresh)
    return np.stack(found).astype(np.float32), len(missing)


def embed_batch(
    catalogue: Catalogue, encoder: Encoder, cache: EmbeddingCache | None, positions: range
) -> EmbeddedBatch:
    """Read (render, decode) one batch, then embed its readable images through the cache."""
    loaded = catalogue.load(positions)
    readable = [b for b in loaded if b.image is not None]
    if not readable:
        return EmbeddedBatch(loaded, readable, None, 0)
    vectors, fresh = embed_loaded(readable, encoder, cache)
    return EmbeddedBatch(loaded, readable, vectors, fresh)
