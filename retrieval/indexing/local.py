"""The local engine: embed a catalogue one batch per core, then index the vectors."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from retrieval.catalogues.base import Catalogue, Item
from retrieval.catalogues.ref import CatalogueRef
from retrieval.encoders import Encoder
from retrieval.index import faiss_tools
from retrieval.index.search import SearchIndex
from retrieval.index.store import Manifest, SkippedItem
from retrieval.indexing.embedding_cache import EmbeddingCache
from retrieval.indexing.stages import embed_batch, plan_batches
from retrieval.indexing.vector_file import VectorWriter
from retrieval.threads import per_core_map


class BuildInterrupted(KeyboardInterrupt):
    """Ctrl-C during a build; the message says how far it got and how to resume."""


@dataclass
class EncodedCatalogue:
    items: list[Item]
    vectors: np.ndarray  # (N, D) float32, in RAM or memory-mapped from a file
    skipped: list[SkippedItem]
    encoded: int  # images that reached the encoder (the rest came from the cache)


def encode_catalogue(
    catalogue: Catalogue,
    encoder: Encoder,
    cache: EmbeddingCache | None = None,
    batch_size: int | None = None,
    progress: bool = True,
    out: str | Path | None = None,
) -> EncodedCatalogue:
    """Vectors of every readable catalogue image, reusing cached embeddings.

    With `out` (a .npy path) the vectors are written there batch by batch and returned
    memory-mapped, so the build needs no RAM for them.
    """
    from retrieval.progress import bar as progress_bar

    batch_size = batch_size or encoder.batch_size
    writer = VectorWriter(len(catalogue), encoder.dim, out)
    items, skipped, encoded = [], [], 0
    bar = progress_bar(
        total=len(catalogue), desc=f"encode {catalogue.name}", unit="img", disable=not progress
    )
    plan = plan_batches(catalogue, encoder, cache, batch_size, parallel=encoder.parallel_batches)
    stage = partial(embed_batch, catalogue, encoder, cache, planned=plan.hashes)  # on a core
    batches = plan.batches
    try:
        for batch in per_core_map(stage, batches, encoder.parallel_batches):
            skipped += batch.skipped
            if batch.items:
                encoded += batch.fresh
                items += batch.items
                writer.write(batch.vectors)
            bar.update(batch.size)
            bar.set_postfix(encoded=encoded, skipped=len(skipped))
    except KeyboardInterrupt:
        bar.close()
        cached = "cached" if cache is not None else "not cached (--no-cache)"
        raise BuildInterrupted(
            f"interrupted after {len(items) + len(skipped)} of {len(catalogue)} images; the "
            f"{encoded} encoded so far are {cached}: run the same command again to resume"
        ) from None
    bar.close()
    if not items:
        raise ValueError(f"catalogue {catalogue.name} has no readable images")
    return EncodedCatalogue(items, writer.finish(), skipped, encoded)


def build_index(
    catalogue: Catalogue,
    encoder: Encoder,
    factory: str = "Flat",
    cache: EmbeddingCache | None = None,
    batch_size: int | None = None,
    train_sample: int = 100_000,
    progress: bool = True,
    vectors_path: str | Path | None = None,
) -> SearchIndex:
    """Encode a catalogue (reusing cached embeddings) and index it.

    With `vectors_path` the vectors go to that file as they arrive (bounded memory: the
    quantiser trains on at most `train_sample` of them, and they are added in chunks).
    """
    started = time.time()
    encoded = encode_catalogue(catalogue, encoder, cache, batch_size, progress, vectors_path)
    return index_encoded(encoded, catalogue, encoder, factory, train_sample, started, progress)


def left_out(catalogue: Catalogue) -> dict[str, int]:
    """What a folder catalogue's metadata skipped (malformed rows, repeated ids, rows without
    an image, ...), by kind: the build's summary says it even where warnings are not shown."""
    problems = getattr(catalogue, "problems", None)
    return {kind: len(found) for kind, found in problems.found.items()} if problems else {}


def index_encoded(
    encoded: EncodedCatalogue,
    catalogue: Catalogue,
    encoder: Encoder,
    factory: str,
    train_sample: int,
    started: float,
    progress: bool = False,
) -> SearchIndex:
    """The SearchIndex of encoded vectors (shared by the local and the Ray engine)."""
    index = faiss_tools.index_vectors(encoded.vectors, factory, train_sample, progress=progress)
    manifest = Manifest(
        model_id=encoder.model_id,
        model_fingerprint=encoder.fingerprint,
        dim=encoder.dim,
        factory=factory,
        catalogue=CatalogueRef.of(catalogue),
        catalogue_fingerprint=catalogue.fingerprint(),
        count=len(encoded.items),
        skipped=encoded.skipped,
        left_out=left_out(catalogue),
        build_seconds=round(time.time() - started, 2),
        encoded=encoded.encoded,
        built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        search_defaults=faiss_tools.default_settings(index),
    )
    built = SearchIndex(index, encoded.items, encoded.vectors, manifest, catalogue.schema)
    if isinstance(encoded.vectors, np.memmap):
        built.scratch_vectors = Path(encoded.vectors.filename)
    return built
