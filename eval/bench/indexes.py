"""Index figures for `circhat bench`: Flat, IVF-PQ and HNSW on large fmnist-color-variants
galleries: bytes per item, build time, single-query latency and recall@10 against exact
search, on real query vectors (caption texts, composed queries, held-out item images), and
the time to open each saved gallery with and without its checksums verified."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from retrieval.catalogues import CatalogueRef
from retrieval.catalogues import fmnist_vocab as vocab
from retrieval.compose import build_composer
from retrieval.encoders import Encoder
from retrieval.index import MANIFEST_FILE, SearchIndex, faiss_tools
from retrieval.paths import home

log = logging.getLogger(__name__)
K = 10
BLOCK = 65_536  # gallery rows searched at a time by the exact oracle


@dataclass
class IndexBenchConfig:
    sizes: tuple[int, ...] = (100_000, 1_000_000)
    queries: int = 300  # a third each: caption texts, composed queries, held-out images
    hnsw: str = "HNSW32"
    ivf: str | None = None  # default: IVF{nlist},PQ48 with nlist ~ 4 sqrt(n)
    settings: dict[str, int] = field(default_factory=dict)  # nprobe / efSearch / rerank
    train_sample: int = 100_000
    seed: int = 0


def ivf_factory(n: int) -> str:
    """IVF-PQ for n items: nlist a power of two near 4 sqrt(n) (4096 at 1M), 48-byte codes."""
    nlist = 2 ** int(round(np.log2(max(16.0, 4 * np.sqrt(n)))))
    return f"IVF{nlist},PQ48"


def variants_gallery(encoder: Encoder, n: int, progress: bool = True) -> SearchIndex:
    """The saved fmnist-color-variants:n gallery (built with the embedding cache if absent)."""
    from retrieval.indexing.gallery import build_and_save

    ref = CatalogueRef.parse(f"fmnist-color-variants:{n}")
    folder = ref.index_dir(encoder.model_id)
    if not (folder / MANIFEST_FILE).exists():
        build_and_save(ref, encoder, folder, "Flat", progress=progress)
    return SearchIndex.load(folder, encoder, mmap=True)


def open_times(folder: Path, encoder: Encoder | None, repeats: int = 3) -> dict:
    """Best-of-`repeats` seconds to open a saved index memory-mapped, with its files checked
    against their checksums and without (after one open that pages the files in)."""
    SearchIndex.load(folder, encoder, mmap=True)
    best = {}
    for verify in (False, True):
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            SearchIndex.load(folder, encoder, mmap=True, verify=verify)
            times.append(time.perf_counter() - started)
        best[verify] = min(times)
    return {
        "open_s": round(best[False], 3),
        "open_verified_s": round(best[True], 3),
        "open_ratio": round(best[True] / best[False], 2),
    }


def saved_open_times(searcher: SearchIndex, folder: Path) -> dict:
    """`open_times` of `searcher` saved as a whole index folder (its FAISS index, the items,
    the vectors and a manifest with their checksums, as `circhat index build` writes them),
    as `saved_open_s`, `saved_open_verified_s` and `saved_open_ratio`; the folder is removed
    afterwards."""
    import shutil

    searcher.save(folder)
    try:
        times = open_times(folder, None)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {f"saved_{k}": v for k, v in times.items()}


def query_kinds(count: int) -> dict[str, tuple[int, int]]:
    """Rows [a, b) of each kind of query among `count` real queries (see real_queries)."""
    third = max(1, count // 3)
    return {"captions": (0, third), "composed": (third, 2 * third), "images": (2 * third, count)}


def real_queries(encoder: Encoder, gallery: SearchIndex, count: int, seed: int) -> np.ndarray:
    """(Q, D): caption texts, composed (gallery image + edit text) queries and held-out images."""
    from retrieval.catalogues import FmnistVariantsCatalogue

    rng = np.random.default_rng(seed)
    third = query_kinds(count)["composed"][0]
    attrs = [
        {name: values[rng.integers(len(values))] for name, values in vocab.ATTRIBUTES.items()}
        for _ in range(2 * third)
    ]
    captions = encoder.encode_texts([vocab.caption(**a) for a in attrs[:third]])
    rows = np.sort(rng.choice(len(gallery), third, replace=False))
    references = np.asarray(gallery.vectors[rows], dtype=np.float32)
    edits = [f"make it {a['color']} with {a['pattern']}" for a in attrs[third:]]
    composed = build_composer("sum", encoder).compose(references, edits)  # any encoder, no training
    held_out = FmnistVariantsCatalogue(70_000, seed=seed + 1000)  # other colours: not indexed
    images = held_out.render(rng.choice(len(held_out), count - 2 * third, replace=False))
    queries = np.concatenate([captions, composed, encoder.encode_images(list(images))])
    return np.ascontiguousarray(queries, dtype=np.float32)


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int = K) -> np.ndarray:
    """(Q, k) rows of exact inner-product search (the oracle): FAISS's ground-truth search
    over blocks of `vectors`, which may be a memory-mapped file larger than RAM."""
    from faiss.contrib.exhaustive_search import knn_ground_truth

    blocks = (
        np.ascontiguousarray(vectors[start : start + BLOCK], dtype=np.float32)
        for start in range(0, len(vectors), BLOCK)
    )
    _, rows = knn_ground_truth(queries, blocks, k, faiss.METRIC_INNER_PRODUCT, ngpu=0)
    return rows


def ann_recall_at_k(found: list[np.ndarray], truth: np.ndarray) -> float:
    """Mean share of each query's exact top-k among its k results (FAISS's intersection
    measure; a query with fewer than k results has its missing ones counted as misses)."""
    from faiss.contrib.evaluation import knn_intersection_measure

    if len(found) != len(truth):
        raise ValueError(f"{len(found)} result lists for {len(truth)} queries")
    k = truth.shape[1]
    padded = np.full(truth.shape, -1, np.int64)
    for row, f in zip(padded, found):
        row[: min(k, len(f))] = np.asarray(f[:k])
    return float(knn_intersection_measure(padded, truth))


def bench_factory(
    gallery: SearchIndex,
    factory: str,
    queries: np.ndarray,
    truth: np.ndarray,
    config: IndexBenchConfig,
    folder: Path,
    measure_open: bool = False,
) -> dict:
    """Build, save, memory-map and query one factory over the gallery's vectors; with
    `measure_open`, also the open times of a whole index folder of it (`saved_open_times`)."""
    n = len(gallery)
    started = time.perf_counter()
    built = faiss_tools.index_vectors(gallery.vectors, factory, config.train_sample)
    build_s = time.perf_counter() - started
    path = folder / f"{factory.replace(',', '_')}-{n}.faiss"
    faiss.write_index(built, str(path))
    del built
    index, note = faiss_tools.read_index(path, mmap=True)
    manifest = gallery.manifest.model_copy(update={"factory": factory, "search_defaults": {}})
    searcher = SearchIndex(index, gallery.items, gallery.vectors, manifest)
    applicable = faiss_tools.applicable_settings(index)
    wanted = {k: v for k, v in config.settings.items() if k in applicable}
    searcher.configure(wanted.get("nprobe"), wanted.get("efSearch"), wanted.get("rerank"))
    for query in queries[:10]:  # warm-up: page in the mapped files
        searcher.search(query, K)
    times, found = [], []
    for query in queries:  # one query at a time, as the app searches
        t = time.perf_counter()
        hits = searcher.search(query, K)[0]
        times.append((time.perf_counter() - t) * 1000)
        found.append(np.array([h.position for h in hits]))
    size = path.stat().st_size
    opened = saved_open_times(searcher, folder / f"open-{path.stem}") if measure_open else {}
    settings = dict(searcher.settings)
    del index, searcher  # the mapped file is closed before it is removed
    path.unlink()
    return {
        **opened,
        "factory": factory,
        "n": n,
        "bytes_per_item": round(size / n, 1),
        "index_mb": round(size / 2**20, 1),
        "build_s": round(build_s, 2),
        "p50_ms": round(float(np.percentile(times, 50)), 3),
        "p95_ms": round(float(np.percentile(times, 95)), 3),
        "recall_at_10": round(ann_recall_at_k(found, truth), 4),
        "recall_by_query": _recall_by_kind(found, truth),
        "settings": settings,
        "memory_mapped": not note,  # the index file is mapped: its pages live in the page cache
        "reads_vectors_from_disk": bool(settings.get("rerank")),  # rerank candidates
    }


def _recall_by_kind(found: list[np.ndarray], truth: np.ndarray) -> dict[str, float]:
    """recall@10 of each kind of query (see real_queries)."""
    return {
        kind: round(ann_recall_at_k(found[a:b], truth[a:b]), 4)
        for kind, (a, b) in query_kinds(len(truth)).items()
    }


def bench_indexes(encoder: Encoder, config: IndexBenchConfig, progress: bool = True) -> list[dict]:
    """Figures for Flat, IVF-PQ and HNSW at each gallery size."""
    folder = home() / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in config.sizes:
        gallery = variants_gallery(encoder, n, progress)
        queries = real_queries(encoder, gallery, config.queries, config.seed)
        truth = exact_top_k(gallery.vectors, queries)
        opened = open_times(
            CatalogueRef.parse(f"fmnist-color-variants:{n}").index_dir(encoder.model_id), encoder
        )
        ivf = config.ivf or ivf_factory(n)
        for factory in ("Flat", ivf, config.hnsw):
            measure_open = factory == ivf  # the large-gallery index a shop would save
            rows.append(
                bench_factory(gallery, factory, queries, truth, config, folder, measure_open)
            )
            rows[-1].update(opened if factory == "Flat" else {})
            if progress:
                r = rows[-1]
                log.info(
                    "  %s @ %d: %s B/item, build %s s, p95 %s ms, recall@10 %s",
                    factory,
                    n,
                    r["bytes_per_item"],
                    r["build_s"],
                    r["p95_ms"],
                    r["recall_at_10"],
                )
    return rows
