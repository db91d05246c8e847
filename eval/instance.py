"""`circhat eval instance`: "this style in other colours" as instance retrieval, by mAP.

The gallery is every Fashion-MNIST test garment in 5 seeded colourways of
fmnist-color-variants (50,000 items); 1,000 seeded queries; the positives of a query are the
other variants of its garment; mAP and precision@10 as in the Oxford protocol (the query is
removed from its ranking; rankings are 1,000 deep, positives beyond add 0). Descriptors are
compared, then query expansion and diffusion are measured on the best one, each with its
added query time. Parameters were chosen on held-out TRAIN garments (`split="holdout"`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict

import faiss
import numpy as np

from eval.instance_truth import MAX_STYLE, InstanceTruth, oxford_scores
from retrieval.catalogues import FmnistVariantsCatalogue, Subset
from retrieval.encoders import DEFAULT_MODEL
from retrieval.instance.diffusion import knn_graph
from retrieval.instance.expansion import database_augmentation
from retrieval.instance.query import Expander, ExpansionSettings
from retrieval.instance.ranking import drop_query, map_and_precision

log = logging.getLogger(__name__)
GARMENTS = {"train": 60_000, "test": 10_000}
HOLDOUT = 2_000  # the last train garments, never used to train the instance head
DEPTH = 1_000  # ranking depth scored


def instance_gallery(
    split: str = "test", variants: int = 5, garments: int | None = None, seed: int = 0
) -> tuple[Subset, np.ndarray]:
    """(catalogue, groups (N,)): the garments of `split` ('test', or 'holdout': the last 2,000
    train garments) in `variants` colourways of fmnist-color-variants, variant after variant."""
    if split == "test":
        first, count = GARMENTS["train"], GARMENTS["test"]
    elif split == "holdout":
        first, count = GARMENTS["train"] - HOLDOUT, HOLDOUT
    else:
        raise ValueError(f"unknown instance split {split!r}: use 'test' or 'holdout'")
    count = min(count, garments or count)
    per_variant = sum(GARMENTS.values())
    catalogue = FmnistVariantsCatalogue(per_variant * variants, seed=seed)
    positions = [v * per_variant + first + i for v in range(variants) for i in range(count)]
    label = f"instance-{split}-{count}x{variants}"
    return Subset(catalogue, positions, label), catalogue.garment_of(np.array(positions))


def seeded_queries(n_items: int, count: int = 1000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng([seed, 18])
    return np.sort(rng.choice(n_items, min(count, n_items), replace=False))


def encode(catalogue, encoder, use_cache: bool = True, progress: bool = True) -> np.ndarray:
    """(N, D) vectors of every catalogue item by the index build's stages (cached)."""
    from retrieval.indexing.embedding_cache import EmbeddingCache
    from retrieval.indexing.local import encode_catalogue

    cache = EmbeddingCache() if use_cache else None
    try:
        encoded = encode_catalogue(catalogue, encoder, cache, progress=progress)
    finally:
        if cache is not None:
            cache.close()
    if len(encoded.items) != len(catalogue):
        raise ValueError(f"{len(catalogue) - len(encoded.items)} gallery images were unreadable")
    return np.ascontiguousarray(encoded.vectors, dtype=np.float32)


def flat_index(vectors: np.ndarray) -> faiss.Index:
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def score_rankings(rankings: np.ndarray, groups, queries: np.ndarray) -> dict:
    """mAP / precision@10; `groups`: (N,) group of each row (its other rows are positives), or
    an InstanceTruth (other colours of its group are positives, its own colour is junk)."""
    if isinstance(groups, InstanceTruth):
        return oxford_scores(rankings[:, : DEPTH + MAX_STYLE], groups, queries)
    return map_and_precision(drop_query(rankings, queries, DEPTH), groups, queries)


def evaluate_descriptor(vectors: np.ndarray, groups, queries: np.ndarray) -> dict:
    """mAP / precision@10 of plain nearest-neighbour search with one descriptor."""
    _, found = flat_index(vectors).search(vectors[queries], DEPTH + MAX_STYLE)
    return score_rankings(found, groups, queries)


def _timed(method: Callable[[int], np.ndarray], queries: np.ndarray) -> tuple[np.ndarray, float]:
    """(rankings (Q, R), mean ms per query) of a one-query-at-a-time method."""
    rows, times = [], []
    for q in queries:
        started = time.perf_counter()
        rows.append(method(int(q)))
        times.append(time.perf_counter() - started)
    width = max(len(r) for r in rows)
    out = np.full((len(rows), width), -1, np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out, 1000 * float(np.mean(times))


def expansion_methods(
    vectors: np.ndarray, settings: ExpansionSettings
) -> dict[str, tuple[Callable[[int], np.ndarray], float]]:
    """name -> (one-query method returning a ranking of gallery rows, offline seconds)."""
    started = time.perf_counter()
    graph = knn_graph(vectors, settings.graph_k, settings.gamma)
    graph_s = time.perf_counter() - started
    started = time.perf_counter()
    augmented = database_augmentation(vectors, settings.dba_k, settings.alpha)
    dba_s = time.perf_counter() - started
    dba_graph = knn_graph(augmented, settings.graph_k, settings.gamma)
    plain = Expander(flat_index(vectors), vectors, graph)
    dba = Expander(flat_index(augmented), augmented, dba_graph)
    depth = DEPTH

    def run(expander: Expander, method: str):
        chosen = ExpansionSettings(**{**asdict(settings), "method": method})
        return lambda q: expander.rank(vectors[q], depth, chosen, skip=q)[0]

    # the query is the item's own descriptor (also against augmented vectors), its row left out
    return {
        "none": (run(plain, "none"), 0.0),
        "aqe": (run(plain, "aqe"), 0.0),
        "alpha_qe": (run(plain, "alpha_qe"), 0.0),
        "diffusion": (run(plain, "diffusion"), graph_s),
        "dba": (run(dba, "none"), dba_s),
        "dba+alpha_qe": (run(dba, "alpha_qe"), dba_s),
        "dba+diffusion": (run(dba, "diffusion"), dba_s + graph_s),
    }


def evaluate_expansion(
    vectors: np.ndarray, groups, queries: np.ndarray, settings: ExpansionSettings
) -> dict:
    """Every expansion method's mAP, precision@10 and added ms per query over plain search."""
    out = {}
    for name, (method, offline) in expansion_methods(vectors, settings).items():
        rankings, ms = _timed(method, queries)
        out[name] = {**score_rankings(rankings, groups, queries), "ms": round(ms, 3)}
        out[name]["offline_s"] = round(offline, 2)
    base = out["none"]["ms"]
    for row in out.values():
        row["added_ms"] = round(row.pop("ms") - base, 3)
    return out


def descriptor_encoders(model_id: str = DEFAULT_MODEL) -> dict:
    """name -> encoder of each descriptor compared: (a) the main embedding, (b) GeM of the
    tower's last map on grey input, (b') of its last two maps, (c) the trained instance head."""
    from retrieval.encoders import load_encoder
    from retrieval.instance.descriptors import GemDescriptorEncoder, HeadDescriptorEncoder

    base = load_encoder(model_id)
    return {
        "embedding": base,
        "gem": GemDescriptorEncoder(base, (3,)),
        "gem-s2.3": GemDescriptorEncoder(base, (2, 3)),
        "head": HeadDescriptorEncoder(base),
    }


def run_instance_benchmark(
    split: str = "test",
    queries: int = 1000,
    seed: int = 0,
    settings: ExpansionSettings | None = None,
    model_id: str = DEFAULT_MODEL,
    use_cache: bool = True,
    progress: bool = True,
) -> dict:
    """The fmnist-color-variants instance benchmark: descriptors, then expansion of the best.

    Returns:
        {"descriptors": {name: {"map", "precision_at_10"}}, "expansion": {method: {"map",
        "precision_at_10", "added_ms", "offline_s"}}, "best": name, "settings": {...}}.
    """
    settings = settings or ExpansionSettings()
    catalogue, groups = instance_gallery(split, seed=seed)
    rows = seeded_queries(len(catalogue), queries, seed)
    report, vectors = {"descriptors": {}}, {}
    for name, encoder in descriptor_encoders(model_id).items():
        vectors[name] = encode(catalogue, encoder, use_cache, progress)
        report["descriptors"][name] = evaluate_descriptor(vectors[name], groups, rows)
        log.info("descriptor %s: %s", name, report["descriptors"][name])
    best = max(report["descriptors"], key=lambda n: report["descriptors"][n]["map"])
    report["best"] = best
    report["expansion"] = evaluate_expansion(vectors[best], groups, rows, settings)
    report["settings"] = {
        "gallery": len(catalogue),
        "garments": int(len(np.unique(groups))),
        "split": split,
        "queries": len(rows),
        "seed": seed,
        "depth": DEPTH,
        "faiss_threads": faiss.omp_get_max_threads(),
        "expansion": asdict(settings),
    }
    return report
