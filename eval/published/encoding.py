"""Gallery encoding (through the embedding cache), query composition and scoring."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from eval.datasets import (
    Triplet,
)
from retrieval.catalogues.images import content_hash, decode_image
from retrieval.indexing.embedding_cache import EmbeddingCache

if TYPE_CHECKING:
    from retrieval.compose.base import Composer
    from retrieval.encoders import Encoder


@dataclass
class Gallery:
    """The readable images of one gallery, in split order, with their vectors."""

    names: list[str]
    paths: list[Path]
    vectors: np.ndarray  # (N, D) float32, L2-normalised
    missing: int  # named by the split, no file
    unreadable: int  # a file that does not decode
    position: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.position = {name: i for i, name in enumerate(self.names)}


@contextmanager
def open_cache(cache: EmbeddingCache | None, use_cache: bool, encoder) -> Iterator:
    """The cache to use (None without one); a cache opened here is closed on exit."""
    if not use_cache or not encoder.fingerprint:
        yield None
    elif cache is not None:
        yield cache
    else:
        own = EmbeddingCache()
        try:
            yield own
        finally:
            own.close()


def encode_batch(paths: list[Path], encoder, cache) -> tuple[np.ndarray, list[bool]]:
    """(B, D) vectors of image files and whether each decoded; only cache misses are encoded."""
    data = [path.read_bytes() for path in paths]
    hashes = [content_hash(raw) for raw in data]
    found = (
        cache.get_many(encoder.fingerprint, hashes) if cache is not None else [None] * len(paths)
    )
    vectors = np.zeros((len(paths), encoder.dim), np.float32)
    readable = [True] * len(paths)
    misses, images = [], []
    for i, (vector, raw, path) in enumerate(zip(found, data, paths)):
        if vector is not None:
            vectors[i] = vector
            continue
        try:
            images.append(decode_image(raw, str(path)))  # (H, W, 3) uint8
            misses.append(i)
        except ValueError:
            readable[i] = False
    if misses:
        fresh = encoder.encode_images(images)  # (M, D)
        vectors[misses] = fresh
        if cache is not None:
            cache.put_many(encoder.fingerprint, [hashes[i] for i in misses], fresh)
    return vectors, readable


def encode_gallery(
    names: Sequence[str], located: Mapping[str, Path | None], encoder, cache, batch_size: int
) -> Gallery:
    """Encode the images of `names` that exist; count the ones missing or unreadable."""
    names = list(dict.fromkeys(names))
    present = [name for name in names if located.get(name) is not None]
    parts, readable = [np.zeros((0, encoder.dim), np.float32)], []
    for start in range(0, len(present), batch_size):
        batch = [located[name] for name in present[start : start + batch_size]]
        vectors, ok = encode_batch(batch, encoder, cache)
        parts.append(vectors)
        readable.extend(ok)
    keep = [i for i, ok in enumerate(readable) if ok]
    return Gallery(
        names=[present[i] for i in keep],
        paths=[located[present[i]] for i in keep],
        vectors=np.concatenate(parts)[keep],
        missing=len(names) - len(present),
        unreadable=len(present) - len(keep),
    )


# ---- queries: composing and scoring ----


@dataclass
class Queries:
    """The queries whose reference and target are both in the gallery."""

    references: np.ndarray  # (Q,) gallery index
    targets: np.ndarray  # (Q,) gallery index
    texts: list[str]
    subsets: list[list[int]]  # gallery indices of img_set members (CIRR), else []
    skipped: int


def make_queries(triplets: Sequence[Triplet], texts: Sequence[str], gallery: Gallery) -> Queries:
    """Keep the triplets (and their texts) whose images were encoded; count the others."""
    pos = gallery.position
    kept = [(t, x) for t, x in zip(triplets, texts) if t.reference in pos and t.target in pos]
    return Queries(
        references=np.array([pos[t.reference] for t, _ in kept], dtype=np.int64),
        targets=np.array([pos[t.target] for t, _ in kept], dtype=np.int64),
        texts=[x for _, x in kept],
        subsets=[[pos[m] for m in t.subset if m in pos] for t, _ in kept],
        skipped=len(triplets) - len(kept),
    )


def scores_in_batches(composer, gallery: Gallery, queries: Queries, batch_size: int) -> Iterator:
    """Yield (rows, (B, N) scores) for the queries, composed a batch at a time."""
    for start in range(0, len(queries.targets), batch_size):
        rows = slice(start, start + batch_size)
        refs = queries.references[rows]
        images = None
        if composer.needs_images:
            images = [
                decode_image(gallery.paths[i].read_bytes(), str(gallery.paths[i])) for i in refs
            ]
        composed = composer.compose(gallery.vectors[refs], queries.texts[rows], images)  # (B, D)
        yield rows, composed @ gallery.vectors.T


def counts(gallery: Gallery, queries: Queries) -> dict[str, int]:
    """How many queries and gallery images were used, skipped, missing or unreadable."""
    return {
        "queries": int(len(queries.targets)),
        "queries_skipped": int(queries.skipped),
        "gallery": len(gallery.names),
        "gallery_missing": int(gallery.missing),
        "gallery_unreadable": int(gallery.unreadable),
    }


def recall_fields(name: str, recalls: Mapping[int, float]) -> dict[str, dict[str, float]]:
    """{name: {"k": fraction}, name_percent: {"k": percent}} with JSON string keys."""
    return {
        name: {str(k): float(v) for k, v in recalls.items()},
        f"{name}_percent": {str(k): 100.0 * float(v) for k, v in recalls.items()},
    }


def model_fields(encoder, composer) -> dict[str, str]:
    """The model under test, for the report and the table's row label."""
    return {
        "model": f"{encoder.model_id} + {composer.name}",
        "encoder": encoder.model_id,
        "encoder_fingerprint": encoder.fingerprint,
        "composer": composer.name,
    }


# ---- Fashion IQ ----


@dataclass(frozen=True)
class Run:
    """What every category of one evaluation shares."""

    encoder: Encoder
    composer: Composer
    cache: EmbeddingCache | None
    batch_size: int
    images_dir: Path


def triplet_images(triplets: Sequence[Triplet]) -> list[str]:
    """The reference and target names of the triplets (targets may be None on test splits)."""
    return [n for t in triplets for n in (t.reference, t.target) if n is not None]


# ---- CIRR ----
