"""Open a saved index for a catalogue and model, building it first when it is missing."""

from __future__ import annotations

import sys
from pathlib import Path

from retrieval.catalogue import open_catalogue
from retrieval.embedding_cache import EmbeddingCache
from retrieval.encoders import Encoder, load_encoder
from retrieval.index import MANIFEST_FILE, SearchIndex, build_index
from retrieval.paths import default_index_dir


def build_and_save(
    catalogue: str,
    encoder: Encoder,
    out: Path,
    factory: str = "Flat",
    use_cache: bool = True,
    batch_size: int = 256,
    progress: bool = True,
) -> SearchIndex:
    cache = EmbeddingCache() if use_cache else None
    try:
        index = build_index(
            open_catalogue(catalogue), encoder, factory, cache, batch_size, progress=progress
        )
    finally:
        if cache is not None:
            cache.close()
    index.save(out)
    for skipped in index.manifest.skipped:
        print(f"skipped {skipped.source}: {skipped.reason}", file=sys.stderr)
    return index


def open_gallery(
    catalogue: str = "fmnist-color",
    model_id: str = "fashion-mini",
    folder: str | Path | None = None,
    factory: str = "Flat",
) -> tuple[Encoder, SearchIndex]:
    """The encoder and the index of `catalogue`; builds and saves the index if absent."""
    encoder = load_encoder(model_id)
    folder = Path(folder) if folder else default_index_dir(catalogue, model_id)
    if not (folder / MANIFEST_FILE).exists():
        print(f"building the index of {catalogue} with {model_id} in {folder}", file=sys.stderr)
        return encoder, build_and_save(catalogue, encoder, folder, factory)
    return encoder, SearchIndex.load(folder, encoder)
