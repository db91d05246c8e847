"""One instance query: nearest neighbours, then optional query expansion or diffusion."""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

from retrieval.instance.diffusion import KnnGraph, diffuse
from retrieval.instance.expansion import alpha_query_expansion

METHODS = ("none", "aqe", "alpha_qe", "diffusion")


@dataclass(frozen=True)
class ExpansionSettings:
    """What runs after the nearest-neighbour search, and its parameters."""

    method: str = "alpha_qe"  # one of METHODS (chosen on held-out train garments)
    dba: bool = True  # search database-side augmented vectors (made offline, no query cost)
    qe_n: int = 2  # top results averaged into the query (AQE, alpha-QE)
    alpha: float = 3.0  # alpha-QE / DBA weight exponent
    dba_k: int = 3  # neighbours merged into each gallery vector by DBA
    graph_k: int = 4  # neighbours per item in the diffusion graph (kept where reciprocal)
    gamma: float = 3.0  # graph affinity exponent: max(cos, 0) ** gamma
    truncate: int = 100  # diffusion runs on the query's nearest `truncate` items
    seeds: int = 3  # nearest items seeding the diffusion
    diffusion_alpha: float = 0.8
    iterations: int = 20  # conjugate-gradient steps

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"unknown expansion {self.method!r}: use one of {', '.join(METHODS)}")


class Expander:
    """Ranks gallery rows for a query vector with a FAISS index of the gallery's vectors and,
    for diffusion, its k-NN graph."""

    def __init__(self, index: faiss.Index, vectors: np.ndarray, graph: KnnGraph | None):
        self.index, self.vectors, self.graph = index, vectors, graph

    def _search(self, query: np.ndarray, depth: int):
        """(scores, rows) of the nearest `depth` rows."""
        scores, rows = self.index.search(np.ascontiguousarray(query[None], np.float32), depth)
        keep = rows[0] >= 0
        return scores[0][keep], rows[0][keep]

    def rank(
        self, query: np.ndarray, depth: int, settings: ExpansionSettings, skip: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows (<= depth,), scores) best first, without row `skip` (the query's own row,
        which still takes part as the query: in the expanded query and as a diffusion seed).

        Scores are cosine similarities to the (expanded) query, or diffused scores scaled to a
        maximum of 1 for the rows diffusion ranked (cosines for the rest).
        """
        method, fetch = settings.method, depth + (skip is not None)
        if method in ("aqe", "alpha_qe"):
            _, top = self._search(query, settings.qe_n)
            alpha = 0.0 if method == "aqe" else settings.alpha
            query = alpha_query_expansion(query, np.asarray(self.vectors[top], np.float32), alpha)
        if method == "diffusion":
            rows, scores = self._diffuse(query, fetch, settings)
        else:
            scores, rows = self._search(query, fetch)
        keep = rows != (-1 if skip is None else skip)
        return rows[keep][:depth], scores[keep][:depth]

    def _diffuse(self, query: np.ndarray, depth: int, settings: ExpansionSettings):
        if self.graph is None:
            raise ValueError("diffusion needs the gallery's k-NN graph: rebuild the instance index")
        scores, rows = self._search(query, max(depth, settings.truncate))
        cut = settings.truncate
        ranked, diffused = diffuse(
            self.graph, rows[:cut], settings.seeds, scores, settings.diffusion_alpha,
            settings.iterations,
        )  # fmt: skip
        top = max(float(diffused[0]), 1e-12) if len(diffused) else 1.0
        rows = np.concatenate([ranked, rows[cut:]])[:depth]
        return rows, np.concatenate([diffused / top, scores[cut:]])[:depth].astype(np.float32)
