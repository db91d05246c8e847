"""Index build throughput for `circhat bench`: build_index against the bare encoder, and the
rebuild of a photo folder after 1% of it changed against its full build."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

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


def bench_update(encoder, catalogue: Catalogue, count: int, changed: float = 0.01) -> dict:
    """A full build of a folder of `count` photo files (written from the catalogue's first
    items) with a fresh cache, then the rebuild after `changed` of the photos were replaced:
    the rebuild reads and hashes every file, decodes and encodes only the replaced ones."""
    from retrieval.catalogues import FolderCatalogue
    from retrieval.indexing.embedding_cache import EmbeddingCache
    from retrieval.indexing.local import build_index

    sample = first_items(catalogue, count)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        names = _write_photos(sample, folder)
        cache = EmbeddingCache(Path(tmp) / "cache")
        t = time.perf_counter()
        build_index(FolderCatalogue(folder), encoder, "Flat", cache, progress=False)
        full_s = time.perf_counter() - t
        cache.close()
        replaced = names[:: max(1, round(1 / changed))][: max(1, round(changed * len(names)))]
        for name in replaced:  # the same garment, a new shot: other bytes, another vector
            path = folder / name
            Image.open(path).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(path)
        cache = EmbeddingCache(Path(tmp) / "cache")
        t = time.perf_counter()
        rebuilt = build_index(FolderCatalogue(folder), encoder, "Flat", cache, progress=False)
        update_s = time.perf_counter() - t
        cache.close()
    return {
        "photos": len(names),
        "replaced": len(replaced),
        "encoded_by_update": rebuilt.manifest.encoded,
        "full_build_s": round(full_s, 2),
        "update_s": round(update_s, 2),
        "update_ratio": round(update_s / full_s, 4),
    }


def _write_photos(catalogue: Catalogue, folder: Path, batch: int = 256) -> list[str]:
    """The catalogue's images as PNG files named by position; their names."""
    names = []
    for start in range(0, len(catalogue), batch):
        for offset, loaded in enumerate(
            catalogue.load(range(start, min(start + batch, len(catalogue))))
        ):
            if loaded.image is not None:
                name = f"{start + offset:06d}.png"
                Image.fromarray(loaded.image).save(folder / name)
                names.append(name)
    return names
