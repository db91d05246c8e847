"""Open a saved index for a catalogue and model, building it first when it is missing."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from retrieval.catalogues import open_catalogue
from retrieval.encoders import Encoder, load_encoder
from retrieval.index.search import SearchIndex
from retrieval.index.store import MANIFEST_FILE, SCRATCH_VECTORS
from retrieval.indexing.embedding_cache import EmbeddingCache
from retrieval.indexing.local import build_index
from retrieval.paths import default_index_dir

log = logging.getLogger(__name__)
ENGINES = ("local", "ray")


def build_and_save(
    catalogue: str,
    encoder: Encoder,
    out: Path,
    factory: str = "Flat",
    use_cache: bool = True,
    batch_size: int | None = None,
    progress: bool = True,
    engine: str = "local",
    metadata: str | Path | None = None,
    part: str | None = None,
) -> SearchIndex:
    """Build the index of a catalogue spec into `out`.

    Vectors stream to a file in `out` as they are encoded (bounded memory at any size);
    `engine="ray"` embeds on a Ray cluster (RAY_ADDRESS, else a local one) instead.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    out = Path(out)
    if engine == "ray":
        from retrieval.indexing.ray_engine import build_index_ray, remove_shards

        builder = partial(open_catalogue, catalogue, metadata, part=part)
        index = build_index_ray(
            builder, encoder, out, factory, batch_size=batch_size, use_cache=use_cache
        )
    else:
        cache = EmbeddingCache() if use_cache else None
        try:
            index = build_index(
                open_catalogue(catalogue, metadata, part=part),
                encoder,
                factory,
                cache,
                batch_size,
                progress=progress,
                vectors_path=out / SCRATCH_VECTORS,
            )
        finally:
            if cache is not None:
                cache.close()
    index.save(out)
    if engine == "ray":
        remove_shards(out)
    for skipped in index.manifest.skipped:
        log.warning("skipped %s: %s", skipped.source, skipped.reason)
    return index


def open_gallery(
    catalogue: str = "fmnist-color",
    model_id: str = "fashion-mini",
    folder: str | Path | None = None,
    factory: str = "Flat",
    mmap: bool = False,
    metadata: str | Path | None = None,
    part: str | None = None,
) -> tuple[Encoder, SearchIndex]:
    """The encoder and the index of `catalogue` (or of its `part`); builds and saves the
    index if absent. With `mmap`, a saved index is memory-mapped where FAISS supports it."""
    encoder = load_encoder(model_id)
    folder = Path(folder) if folder else default_index_dir(catalogue, model_id, metadata, part)
    if not (folder / MANIFEST_FILE).exists():
        log.info("building the index of %s with %s in %s", catalogue, model_id, folder)
        built = build_and_save(catalogue, encoder, folder, factory, metadata=metadata, part=part)
        return encoder, built
    return encoder, SearchIndex.load(folder, encoder, mmap=mmap)
