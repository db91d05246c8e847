"""The stages of embedding a catalogue: hash a batch's photo files -> look them up in the
cache -> read (decode, render) the misses -> encode them -> write them to the cache. The local and the Ray engine both run `embed_batch` on
batches of positions and write what it returns; each stage is a plain function.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.catalogues.base import Catalogue, Item, LoadedImage
from retrieval.catalogues.folder import FolderCatalogue
from retrieval.catalogues.images import content_hash
from retrieval.encoders import Encoder
from retrieval.index.store import SkippedItem
from retrieval.indexing.embedding_cache import EmbeddingCache


@dataclass
class EmbeddedBatch:
    """One batch after the stages: the items embedded (in catalogue order), their vectors,
    and the items whose images could not be read."""

    positions: list[int]  # catalogue positions of the embedded items
    items: list[Item]
    vectors: np.ndarray | None  # (R, D) for the embedded items, None when there are none
    fresh: int  # vectors computed by the encoder (the rest came from the cache)
    skipped: list[SkippedItem]
    size: int  # positions the batch covered


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
    catalogue: Catalogue,
    encoder: Encoder,
    cache: EmbeddingCache | None,
    positions: range,
    planned: dict[int, str] | None = None,
) -> EmbeddedBatch:
    """Embed one batch through the cache. A photo file whose bytes are cached is not even
    decoded (an unchanged photo costs a stat, or a read and a hash where its stat changed);
    the rest are read (rendered, decoded) and only the cache's misses reach the encoder.
    `planned`: content hashes already known (`plan_batches`)."""
    found = cached_by_bytes(catalogue, encoder, cache, positions, planned)
    loaded = catalogue.load([p for p in positions if p not in found])
    readable = [b for b in loaded if b.image is not None]
    at = {b.item.id: p for p, b in zip((p for p in positions if p not in found), loaded)}
    fresh = 0
    if readable:
        vectors, fresh = embed_loaded(readable, encoder, cache)
        found |= {at[b.item.id]: v for b, v in zip(readable, vectors)}
    embedded = sorted(found)
    skipped = [
        SkippedItem(id=b.item.id, source=b.item.source, reason=b.error)
        for b in loaded
        if b.image is None
    ]
    return EmbeddedBatch(
        embedded,
        [catalogue.items[p] for p in embedded],
        np.stack([found[p] for p in embedded]).astype(np.float32) if embedded else None,
        fresh,
        skipped,
        len(positions),
    )


@dataclass
class BatchPlan:
    """The batches of a build and the content hash of each photo file read to plan them."""

    batches: list[range]
    hashes: dict[int, str]  # {position: content hash}; {} for rendered catalogues or no cache


def plan_batches(
    catalogue: Catalogue,
    encoder: Encoder,
    cache: EmbeddingCache | None,
    batch_size: int,
    longest: int = 64,
    parallel: int = 1,
) -> BatchPlan:
    """Consecutive ranges of positions covering the catalogue, each holding at most
    `batch_size` photo files the cache lacks (and at most `longest` x `batch_size`
    positions): an update encodes its few new or changed photos in full batches, not one
    or two a batch; and in at least `parallel` batches where it has that many, so that
    every core encodes a share of them. Without a cache, or for rendered catalogues:
    `position_batches`."""
    if cache is None or not isinstance(catalogue, FolderCatalogue):
        return BatchPlan(list(position_batches(len(catalogue), batch_size)), {})
    # files whose stat record the cache does not know count as misses here, unread: a new
    # catalogue plans in stat calls, and its workers read and hash the files in parallel
    hashes = file_hashes(catalogue, cache, range(len(catalogue)), read=False)
    cached = dict(zip(hashes, cache.has_many(encoder.fingerprint, list(hashes.values()))))
    missing = len(catalogue) - sum(cached.values())
    quota = max(1, min(batch_size, -(-missing // max(1, parallel))))  # misses a batch
    batches, start, misses = [], 0, 0
    for p in range(len(catalogue)):
        misses += not cached.get(p, False)
        if misses == quota or p + 1 - start == longest * batch_size:
            batches.append(range(start, p + 1))
            start, misses = p + 1, 0
    if start < len(catalogue):
        batches.append(range(start, len(catalogue)))
    return BatchPlan(batches, hashes)


def file_hashes(
    catalogue: FolderCatalogue, cache: EmbeddingCache, positions: Sequence[int], read=True
) -> dict[int, str]:
    """{position: content hash} of the photo files at `positions` that can be read; a file
    whose stat record is as the cache remembers it is not even read (`FileHashes`), the
    others are read and hashed, and remembered (`read=False`: left out)."""
    stats = catalogue.file_stats  # as the catalogue was when first asked; gone: None
    records = {p: stats[p].record for p in positions if stats[p] is not None}
    # the table's keys: absolute paths (a path that already is one is not normalised again:
    # at worst a second key for one file, hashed once more)
    sources = [catalogue.items[p].source for p in records]
    where = {
        p: source if source.startswith(os.sep) else os.path.abspath(source)
        for p, source in zip(records, sources)
    }
    known = cache.files.known({where[p]: r for p, r in records.items()})
    hashes, hashed = {}, []
    for p, record in records.items():
        if where[p] in known:
            hashes[p] = known[where[p]]
            continue
        if not read:
            continue
        try:
            hashes[p] = content_hash(Path(where[p]).read_bytes())
        except OSError:
            continue  # unreadable now: the full read reports it
        hashed.append((where[p], record, hashes[p]))
    cache.files.remember(hashed)
    return hashes


def cached_by_bytes(
    catalogue: Catalogue,
    encoder: Encoder,
    cache: EmbeddingCache | None,
    positions: range,
    planned: dict[int, str] | None = None,
) -> dict[int, np.ndarray]:
    """{position: cached vector} of the photo files whose bytes the cache knows (folder
    catalogues: their items' sources are files); {} for rendered catalogues or no cache.
    `planned`: content hashes already known (`plan_batches`); the rest are looked up."""
    if cache is None or not isinstance(catalogue, FolderCatalogue):
        return {}
    planned = planned or {}
    hashes = {p: planned[p] for p in positions if p in planned}
    hashes |= file_hashes(catalogue, cache, [p for p in positions if p not in planned])
    vectors = cache.get_many(encoder.fingerprint, list(hashes.values()))
    return {p: v for p, v in zip(hashes, vectors) if v is not None}
