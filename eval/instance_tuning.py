"""Expansion parameters chosen on a validation part of a photo catalogue, reported on its test.

Validation queries are seeded items of the catalogue's train part (retrieval/catalogues/
split.py) with a relevant item; each method's parameters (alpha-QE: neighbours and exponent;
DBA: neighbours; diffusion: graph neighbours, alpha and seeds) are chosen by their mAP there,
then that method is scored once on the test queries. A method that does not beat its plain
descriptor on validation is reported as such, not dropped.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import asdict, replace

import numpy as np

from eval.instance import DEPTH, _timed, flat_index, score_rankings
from eval.instance_truth import InstanceTruth
from retrieval.catalogues.split import in_test
from retrieval.instance.diffusion import knn_graph
from retrieval.instance.expansion import database_augmentation
from retrieval.instance.query import Expander, ExpansionSettings

log = logging.getLogger(__name__)
GRIDS = {  # method of eval.instance.expansion_methods -> the parameters tried
    "alpha_qe": {"qe_n": (2, 3, 5), "alpha": (1.0, 3.0)},  # qe_n 1: the query alone
    "dba": {"dba_k": (1, 2, 3), "alpha": (1.0, 3.0)},
    "diffusion": {"graph_k": (3, 5, 10), "diffusion_alpha": (0.7, 0.9), "seeds": (1, 2)},
}


def validation_rows(catalogue, truth: InstanceTruth, count: int, seed: int = 0) -> np.ndarray:
    """(Q,) sorted seeded rows of the train part with at least one relevant item."""
    rows = [
        row
        for row, item in enumerate(catalogue.items)
        if not in_test(item) and len(truth.relevant(row))
    ]
    rng = np.random.default_rng([seed, 23])
    return np.sort(rng.choice(np.array(rows, np.int64), min(count, len(rows)), replace=False))


def candidates(base: ExpansionSettings, grid: dict) -> list[ExpansionSettings]:
    names = list(grid)
    return [replace(base, **dict(zip(names, v))) for v in itertools.product(*grid.values())]


class Rankers:
    """One-query rankers of a descriptor's gallery, building only what a method needs (the
    k-NN graph once per graph_k and gamma, DBA's vectors once per dba_k and alpha)."""

    def __init__(self, vectors: np.ndarray):
        self.vectors, self.index = vectors, flat_index(vectors)
        self.graphs, self.augmented = {}, {}

    def expander(self, settings: ExpansionSettings, method: str) -> Expander:
        if method == "dba":
            key = (settings.dba_k, settings.alpha)
            if key not in self.augmented:
                augmented = database_augmentation(self.vectors, *key)
                self.augmented[key] = Expander(flat_index(augmented), augmented, None)
            return self.augmented[key]
        graph = None
        if method == "diffusion":
            key = (settings.graph_k, settings.gamma)
            if key not in self.graphs:
                self.graphs[key] = knn_graph(self.vectors, *key)
            graph = self.graphs[key]
        return Expander(self.index, self.vectors, graph)

    def score(self, truth, rows, settings: ExpansionSettings, method: str) -> dict:
        """mAP, precision@10 and ms per query of `method` (DBA: plain search of its vectors)."""
        expander = self.expander(settings, method)
        chosen = replace(settings, method="none" if method == "dba" else method)
        rank = lambda q: expander.rank(self.vectors[q], DEPTH, chosen, skip=q)[0]  # noqa: E731
        rankings, ms = _timed(rank, rows)
        return {**score_rankings(rankings, truth, rows), "ms": round(ms, 3)}


def tune_expansion(
    vectors: np.ndarray,
    truth: InstanceTruth,
    validation: np.ndarray,
    test: np.ndarray,
    base: ExpansionSettings,
) -> dict:
    """Each method's parameters chosen on `validation` rows, then scored on `test` rows.

    Returns:
        {method: {"chosen": {param: value}, "validation": {"map", ...}, "test": {"map",
        "precision_at_10", "ms"}, "tried": n}}, with "none" (the plain descriptor) first.
    """
    rankers = Rankers(vectors)
    out = {
        "none": {
            "chosen": {},
            "validation": rankers.score(truth, validation, base, "none"),
            "test": rankers.score(truth, test, base, "none"),
            "tried": 1,
        }
    }
    for method, grid in GRIDS.items():
        tried = [(rankers.score(truth, validation, s, method), s) for s in candidates(base, grid)]
        best_score, best = max(tried, key=lambda t: t[0]["map"])
        chosen = {k: asdict(best)[k] for k in grid}
        log.info("%s: chosen %s on validation %s", method, chosen, best_score)
        out[method] = {
            "chosen": chosen,
            "validation": best_score,
            "test": rankers.score(truth, test, best, method),
            "tried": len(tried),
        }
    return out
