"""Index build throughput for `circhat bench`: build_index against the bare encoder."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from retrieval.catalogues import Catalogue, first_items


def bench_build(
    encoder, catalogue: Catalogue, count: int, batch_size: int | None = None, rounds: int = 3
) -> dict:
    """build_index items/s with a fresh cache vs encode_images on the same (decoded or
    rendered) images of the first `count` items; `rounds` alternating runs of each, medians
    (this machine's speed drifts run to run)."""
    from retrieval.indexing.embedding_cache import EmbeddingCache
    from retrieval.indexing.local import build_index

    sample = first_items(catalogue, count)
    count = len(sample)
    images = [b.image for b in sample.load(range(count)) if b.image is not None]
    batch_size = batch_size or encoder.batch_size  # the same batches for both
    encoder.encode_images(images[:batch_size], batch_size)  # warm-up
    bare, built, uncached = [], [], []
    for _ in range(rounds):
        t = time.perf_counter()
        encoder.encode_images(images, batch_size)
        bare.append(time.perf_counter() - t)
        with tempfile.TemporaryDirectory() as tmp:
            cache = EmbeddingCache(Path(tmp) / "cache")
            t = time.perf_counter()
            build_index(sample, encoder, "Flat", cache, batch_size, progress=False)
            built.append(time.perf_counter() - t)
            cache.close()
        t = time.perf_counter()
        build_index(sample, encoder, "Flat", None, batch_size, progress=False)
        uncached.append(time.perf_counter() - t)
    bare_s, build_s = float(np.median(bare)), float(np.median(built))
    uncached_s = float(np.median(uncached))
    return {
        "items_per_s": round(count / build_s, 1),
        "ratio_to_bare": round(bare_s / build_s, 3),
        "bare_items_per_s": round(count / bare_s, 1),
        "no_cache_items_per_s": round(count / uncached_s, 1),  # `index build --no-cache`
        "no_cache_ratio_to_bare": round(bare_s / uncached_s, 3),
        "items": count,
        "batch_size": batch_size,
        "rounds": rounds,
        "catalogue": catalogue.name,
    }
