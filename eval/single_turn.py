"""Single-turn composed retrieval benchmark: the fmnist-color test gallery, or the test part of
a folder catalogue (its split by id), with evaluation phrasings apart from the training ones."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from agent.rewriters import RuleRewriter
from eval import metrics
from retrieval.catalogues import Catalogue, CatalogueRef
from retrieval.catalogues.split import split
from retrieval.compose import build_composer
from retrieval.indexing.embedding_cache import EmbeddingCache
from retrieval.progress import bar as progress_bar
from retrieval.training.features import (
    TripletFeatures,
    catalogue_triplet_features,
    triplet_features,
)
from retrieval.training.phrasebook import Phrasebook

DEFAULT_PHRASEBOOK = Path(__file__).parent / "phrasebooks" / "default.json"
EVAL_ROLES = Path(__file__).parent / "phrasebooks" / "roles.json"  # for other catalogues
KS = (1, 5, 10, 50)


def benchmark_features(
    encoder, count: int = 2000, seed: int = 1, catalogue: Catalogue | None = None
) -> TripletFeatures:
    """Test-gallery triplets phrased with the evaluation phrasebook (not the training one)."""
    cache = EmbeddingCache()
    try:
        if catalogue is None:
            phrasebook = Phrasebook.load(DEFAULT_PHRASEBOOK)
            return triplet_features(encoder, "test", count, phrasebook, seed, cache)
        phrasebook = Phrasebook.for_schema(catalogue.schema, EVAL_ROLES)
        test = split(catalogue, "test")
        return catalogue_triplet_features(test, encoder, count, phrasebook, seed, cache)
    finally:
        cache.close()


def evaluate_composer(composer, features: TripletFeatures, batch_size: int = 500) -> dict:
    """R@K, attribute-level and exact, with the reference removed from each ranking."""
    index = faiss.IndexFlatIP(features.gallery.shape[1])
    index.add(features.gallery)
    references, targets = features.references, features.targets
    rankings = []
    for start in range(0, len(references), batch_size):
        rows = references[start : start + batch_size]
        texts = features.texts[start : start + batch_size]
        images = [b.image for b in features.catalogue.load(rows)] if composer.needs_images else None
        queries = composer.compose(features.gallery[rows], texts, images)
        rankings.append(index.search(queries, max(KS) + 1)[1])
    ranking = metrics.remove_items(np.concatenate(rankings), references)
    labels = features.attribute_ids
    exact = metrics.target_ranks(ranking, targets)
    attribute = metrics.attribute_ranks(ranking, labels, labels[targets])
    return {
        "attribute_recall": {str(k): v for k, v in metrics.recall_at_k(attribute, KS).items()},
        "exact_recall": {str(k): v for k, v in metrics.recall_at_k(exact, KS).items()},
    }


def run_benchmark(
    encoder, names: list[str], count: int = 2000, seed: int = 1, catalogue: Catalogue | None = None
) -> dict:
    """R@K of each composition model; those without weights for this encoder (or catalogue)
    are listed under "unavailable" with the reason."""
    features = benchmark_features(encoder, count, seed, catalogue)
    schema = features.catalogue.schema
    results, unavailable = {}, {}
    for name in progress_bar(names, desc="benchmark", unit="model"):
        try:
            composer = build_composer(
                name,
                encoder,
                rewriter=RuleRewriter(None, schema),
                catalogue=CatalogueRef.of(catalogue) if catalogue is not None else None,
            )
        except (FileNotFoundError, ValueError) as err:
            unavailable[name] = str(err)
            continue
        results[name] = evaluate_composer(composer, features)
    report = {"models": results, "queries": count, "gallery": len(features.gallery), "seed": seed}
    if catalogue is not None:
        report["catalogue"], report["split"] = catalogue.name, "test"
    return {**report, **({"unavailable": unavailable} if unavailable else {})}


def markdown_table(report: dict) -> str:
    head = (
        "| model | "
        + " | ".join(f"attr R@{k}" for k in KS)
        + " | "
        + " | ".join(f"exact R@{k}" for k in KS)
        + " |"
    )
    lines = [head, "|---" * (1 + 2 * len(KS)) + "|"]
    for name, r in report["models"].items():
        cells = [f"{r['attribute_recall'][str(k)]:.3f}" for k in KS] + [
            f"{r['exact_recall'][str(k)]:.3f}" for k in KS
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
