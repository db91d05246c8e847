"""Diffusion on the gallery's k-NN graph (Iscen et al., CVPR 2017), on scipy.sparse.

Offline: the reciprocal k-NN graph of the gallery's instance vectors, affinities
max(cos, 0)^gamma (FAISS finds the neighbours), saved beside the instance index. At query
time: seed the query's top neighbours with their affinity, restrict the graph to the query's
`truncate` nearest items, normalise it (S = D^-1/2 W D^-1/2) and solve (I - alpha S) f = y
by conjugate gradient; items rank by f.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import scipy.sparse as sp

GRAPH_FILE = "knn-graph.npz"


@dataclass
class KnnGraph:
    """Symmetric sparse affinities (N, N) of a gallery and how they were made."""

    affinity: sp.csr_matrix
    k: int
    gamma: float
    source: str = ""  # fingerprint of the vectors it was built from

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / GRAPH_FILE
        tmp = path.with_name(".knn-graph.tmp.npz")
        a = self.affinity
        np.savez(tmp, data=a.data, indices=a.indices, indptr=a.indptr, shape=a.shape,
                 k=self.k, gamma=self.gamma, source=self.source)  # fmt: skip
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, folder: str | Path) -> KnnGraph:
        with np.load(Path(folder) / GRAPH_FILE) as f:
            matrix = sp.csr_matrix((f["data"], f["indices"], f["indptr"]), shape=tuple(f["shape"]))
            return cls(matrix, int(f["k"]), float(f["gamma"]), str(f["source"]))


def knn_graph(
    vectors: np.ndarray, k: int = 20, gamma: float = 3.0, source: str = "", chunk: int = 4096
) -> KnnGraph:
    """The reciprocal k-NN graph of (N, D) unit vectors: i-j kept when each is among the
    other's k nearest, with affinity max(cos, 0)^gamma."""
    from retrieval.progress import bar

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(vectors)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    rows, cols, vals = [], [], []
    for start in bar(range(0, n, chunk), desc="k-NN graph", unit="chunk"):
        scores, found = index.search(vectors[start : start + chunk], k + 1)  # (B, k + 1)
        ids = np.arange(start, start + len(found))[:, None].repeat(k + 1, axis=1)
        keep = (found >= 0) & (found != ids)
        rows.append(ids[keep])
        cols.append(found[keep])
        vals.append(np.maximum(scores[keep], 0.0) ** gamma)
    a = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    reciprocal = a.minimum(a.T).tocsr()  # kept only where both directions exist
    reciprocal.eliminate_zeros()
    return KnnGraph(reciprocal.astype(np.float32), k, gamma, source)


def normalised(affinity: sp.csr_matrix) -> sp.csr_matrix:
    """S = D^-1/2 W D^-1/2 (isolated nodes keep zero rows)."""
    degree = np.asarray(affinity.sum(axis=1)).ravel()
    inv = np.where(degree > 0, 1.0 / np.sqrt(np.maximum(degree, 1e-12)), 0.0)
    d = sp.diags(inv.astype(np.float32))
    return (d @ affinity @ d).tocsr()


def conjugate_gradient(
    s: sp.csr_matrix, y: np.ndarray, alpha: float, iterations: int = 20, tol: float = 1e-6
) -> np.ndarray:
    """Solve (I - alpha S) f = y for a symmetric S with spectral radius <= 1 (SPD system)."""
    f = np.zeros_like(y)
    r = y.copy()
    p = r.copy()
    rr = float(r @ r)
    for _ in range(iterations):
        if rr <= tol * tol:
            break
        ap = p - alpha * (s @ p)
        step = rr / float(p @ ap)
        f += step * p
        r -= step * ap
        rr_next = float(r @ r)
        p = r + (rr_next / rr) * p
        rr = rr_next
    return f


def diffuse(
    graph: KnnGraph,
    candidates: np.ndarray,
    seeds: int,
    seed_scores: np.ndarray,
    alpha: float = 0.99,
    iterations: int = 20,
) -> tuple[np.ndarray, np.ndarray]:
    """Re-rank a query's candidate rows (its nearest first) by diffusion on their subgraph.

    Args:
        graph: the gallery's k-NN graph.
        candidates: (M,) gallery rows nearest the query, best first (the truncation).
        seeds: how many of the first candidates seed y, with affinity seed_scores ** gamma.
        seed_scores: (>= seeds,) their cosine similarity to the query.
    Returns:
        ((M,) the candidate rows ordered by diffused score (ties keep the nearest first),
        (M,) their diffused scores).
    """
    candidates = np.asarray(candidates)
    assert candidates.ndim == 1 and len(seed_scores) >= seeds, (candidates.shape, seeds)
    sub = normalised(graph.affinity[candidates][:, candidates])
    y = np.zeros(len(candidates), np.float32)
    y[:seeds] = np.maximum(np.asarray(seed_scores[:seeds], np.float32), 0.0) ** graph.gamma
    f = conjugate_gradient(sub, y, alpha, iterations)
    order = np.argsort(-f, kind="stable")
    return candidates[order], f[order]
