"""Embed a catalogue on Ray Data, then index it like the local engine.

Stages: plan shards of item positions -> Ray Data `map_batches` over them with a pool of
actors that each hold the catalogue and the encoder (one GPU each where the cluster has
GPUs) and write each shard's vectors and positions as .npy files -> merge the shards in
position order into one vector file -> the same FAISS build and manifest as the local
engine. Finished shards are kept until the index is saved, so a crashed build resumes
(and with the embedding cache, a rebuild encodes only new images).
Connects to the cluster named by RAY_ADDRESS, or starts a local one.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from retrieval.catalogues import Catalogue, CatalogueRef
from retrieval.encoders import Encoder, load_encoder
from retrieval.index.search import SearchIndex
from retrieval.index.store import SCRATCH_VECTORS, SkippedItem
from retrieval.indexing.embedding_cache import EmbeddingCache
from retrieval.indexing.local import EncodedCatalogue, index_encoded
from retrieval.indexing.stages import embed_batch, position_batches
from retrieval.indexing.vector_file import VectorWriter

SHARD_SIZE = 4096  # item positions per shard (one .npy pair each)
SHARDS_DIR = ".ray-shards"  # inside the index folder, removed once the index is saved


def plan_shards(count: int, shard_size: int = SHARD_SIZE) -> list[dict[str, int]]:
    """[{"shard": i, "start": a, "stop": b}, ...] covering positions [0, count)."""
    return [
        {"shard": i, "start": start, "stop": min(start + shard_size, count)}
        for i, start in enumerate(range(0, count, shard_size))
    ]


def _shard_paths(folder: Path, shard: int) -> tuple[Path, Path, Path]:
    stem = folder / f"shard-{shard:06d}"
    return (
        stem.with_suffix(".vectors.npy"),
        stem.with_suffix(".positions.npy"),
        stem.with_suffix(".json"),  # written last: its presence marks a finished shard
    )


def embed_shard(
    catalogue: Catalogue,
    encoder: Encoder,
    cache: EmbeddingCache | None,
    shard: int,
    start: int,
    stop: int,
    folder: Path,
    batch_size: int | None = None,
) -> dict:
    """Embed positions [start, stop) and write the shard's files; returns its summary."""
    positions, parts, skipped, encoded = [], [], [], 0
    batch_size = batch_size or encoder.batch_size
    for batch_positions in position_batches(stop, batch_size, start):
        batch = embed_batch(catalogue, encoder, cache, batch_positions)
        skipped += [s.model_dump() for s in batch.skipped]
        if batch.items:
            parts.append(batch.vectors)
            positions += batch.positions
            encoded += batch.fresh
    vectors_path, positions_path, meta_path = _shard_paths(folder, shard)
    empty = np.zeros((0, encoder.dim), np.float32)
    _atomic_save(vectors_path, np.concatenate(parts) if parts else empty)
    _atomic_save(positions_path, np.asarray(positions, np.int64))
    meta = {"shard": shard, "count": len(positions), "encoded": encoded, "skipped": skipped}
    tmp = meta_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta))
    os.replace(tmp, meta_path)
    return meta


def _atomic_save(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, array)
    os.replace(tmp, path)


class EmbedShards:
    """Ray Data callable class: an actor holding the catalogue and the encoder."""

    def __init__(
        self,
        catalogue_builder: Callable[[], Catalogue],
        encoder_builder: Callable[[], Encoder],
        folder: str,
        batch_size: int | None,
        use_cache: bool,
    ):
        self.catalogue, self.encoder = catalogue_builder(), encoder_builder()
        self.folder, self.batch_size = Path(folder), batch_size
        self.cache = EmbeddingCache() if use_cache else None

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        metas = [
            embed_shard(
                self.catalogue,
                self.encoder,
                self.cache,
                int(shard),
                int(start),
                int(stop),
                self.folder,
                self.batch_size,
            )
            for shard, start, stop in zip(batch["shard"], batch["start"], batch["stop"])
        ]
        return {
            "shard": np.array([m["shard"] for m in metas]),
            "count": np.array([m["count"] for m in metas]),
            "encoded": np.array([m["encoded"] for m in metas]),
        }


def ensure_ray(**init_kwargs) -> None:
    """Connect to RAY_ADDRESS (or start a local Ray) unless Ray is already up."""
    import ray

    if not ray.is_initialized():
        ray.init(**{"include_dashboard": False, "log_to_driver": False, **init_kwargs})


def embed_with_ray(
    catalogue_builder: Callable[[], Catalogue],
    encoder_builder: Callable[[], Encoder],
    count: int,
    folder: Path,
    batch_size: int | None = None,
    shard_size: int = SHARD_SIZE,
    use_cache: bool = True,
    concurrency: int | None = None,
    progress: bool = True,
) -> None:
    """Write every unfinished shard of positions [0, count) into `folder` with Ray Data."""
    import ray
    import ray.data

    ensure_ray()
    folder.mkdir(parents=True, exist_ok=True)
    todo = [
        s
        for s in plan_shards(count, shard_size)
        if not _shard_paths(folder, s["shard"])[2].exists()
    ]
    if not todo:
        return
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    actors = concurrency or max(1, gpus or int(resources.get("CPU", 1)))
    ray.data.DataContext.get_current().enable_progress_bars = progress
    ds = ray.data.from_items(todo, override_num_blocks=len(todo))
    ds = ds.map_batches(
        EmbedShards,
        batch_size=1,
        fn_constructor_kwargs={
            "catalogue_builder": catalogue_builder,
            "encoder_builder": encoder_builder,
            "folder": str(folder),
            "batch_size": batch_size,
            "use_cache": use_cache,
        },
        compute=ray.data.ActorPoolStrategy(size=min(actors, len(todo))),
        num_cpus=1,
        num_gpus=1 if gpus else 0,
    )
    done = ds.take_all()
    if len(done) != len(todo):
        raise RuntimeError(f"Ray embedded {len(done)} of {len(todo)} shards: run the build again")


def merge_shards(folder: Path, catalogue: Catalogue, dim: int, out: Path) -> EncodedCatalogue:
    """All shards of `folder`, in position order, as one memory-mapped vector file `out`."""
    metas = sorted(
        (json.loads(p.read_text()) for p in folder.glob("shard-*.json")), key=lambda m: m["shard"]
    )
    writer = VectorWriter(sum(m["count"] for m in metas), dim, out)
    items, skipped, encoded = [], [], 0
    for meta in metas:
        vectors_path, positions_path, _ = _shard_paths(folder, meta["shard"])
        writer.write(np.load(vectors_path))
        items += [catalogue.items[int(p)] for p in np.load(positions_path)]
        skipped += [SkippedItem(**s) for s in meta["skipped"]]
        encoded += meta["encoded"]
    if not items:
        raise ValueError(f"catalogue {catalogue.name} has no readable images")
    return EncodedCatalogue(items, writer.finish(), skipped, encoded)


def build_index_ray(
    catalogue: CatalogueRef | Callable[[], Catalogue],
    encoder: Encoder,
    out: Path,
    factory: str = "Flat",
    encoder_builder: Callable[[], Encoder] | None = None,
    batch_size: int | None = None,
    shard_size: int = SHARD_SIZE,
    use_cache: bool = True,
    concurrency: int | None = None,
    train_sample: int = 100_000,
    progress: bool = True,
) -> SearchIndex:
    """Like `build_index`, with the embedding done by Ray Data actors.

    `catalogue` is a ref (`fmnist-color-variants:1000000`, a folder) or a function that
    builds the catalogue; each actor builds its own copy, and its own encoder with
    `encoder_builder` (default: `load_encoder(encoder.model_id)`).
    """
    started = time.time()
    builder = catalogue.open if isinstance(catalogue, CatalogueRef) else catalogue
    encoder_builder = encoder_builder or partial(load_encoder, encoder.model_id)
    local = builder()
    out = Path(out)
    shards = out / SHARDS_DIR / f"{local.fingerprint()}-{encoder.fingerprint}-{shard_size}"
    embed_with_ray(
        builder,
        encoder_builder,
        len(local),
        shards,
        batch_size,
        shard_size,
        use_cache,
        concurrency,
        progress,
    )
    encoded = merge_shards(shards, local, encoder.dim, out / SCRATCH_VECTORS)
    return index_encoded(encoded, local, encoder, factory, train_sample, started, progress)


def remove_shards(out: Path) -> None:
    """Drop the shards of a Ray build once its index is saved."""
    shutil.rmtree(Path(out) / SHARDS_DIR, ignore_errors=True)
