"""Query expansion (Chum et al. 2007 AQE; Radenovic et al. alpha-QE) and database-side
augmentation (DBA, Arandjelovic & Zisserman 2012), as pure array functions."""

from __future__ import annotations

import faiss
import numpy as np


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def alpha_query_expansion(query: np.ndarray, neighbours: np.ndarray, alpha: float) -> np.ndarray:
    """alpha-QE: the unit mean of the query and its neighbours, each weighted by its cosine
    similarity to the query raised to `alpha` (negative similarities weigh 0).

    alpha = 0 is average query expansion (every vector weighs 1). Reusable for "more like
    this": pass the vectors of liked items as `neighbours`.

    Args:
        query: (D,) unit vector.
        neighbours: (n, D) unit vectors (the top results, the query itself excluded).
        alpha: weight exponent (3 in Radenovic et al.).
    Returns:
        (D,) unit vector.
    """
    query, neighbours = np.asarray(query, np.float32), np.asarray(neighbours, np.float32)
    assert query.ndim == 1 and neighbours.ndim == 2, (query.shape, neighbours.shape)
    assert neighbours.shape[1] == query.shape[0], (query.shape, neighbours.shape)
    if not len(neighbours):
        return _unit(query)
    weights = np.maximum(neighbours @ query, 0.0) ** alpha if alpha else np.ones(len(neighbours))
    return _unit(query + (weights[:, None] * neighbours).sum(axis=0))


def average_query_expansion(query: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """AQE: the unit mean of the query and its neighbours (D,)."""
    return alpha_query_expansion(query, neighbours, 0.0)


def expand_queries(
    queries: np.ndarray, vectors: np.ndarray, neighbour_rows: np.ndarray, alpha: float
) -> np.ndarray:
    """alpha-QE of many queries (Q, D) from their top rows (Q, n) into `vectors` (-1 = none)."""
    assert queries.ndim == 2 and neighbour_rows.shape[0] == len(queries)
    out = np.empty_like(np.asarray(queries, np.float32))
    for i, (query, rows) in enumerate(zip(queries, neighbour_rows)):
        rows = rows[rows >= 0]
        out[i] = alpha_query_expansion(query, np.asarray(vectors[rows], np.float32), alpha)
    return out


def database_augmentation(
    vectors: np.ndarray, k: int, alpha: float = 3.0, chunk: int = 4096
) -> np.ndarray:
    """DBA: every gallery vector replaced by the alpha-QE of itself and its k nearest others.

    Offline (searched by FAISS over the gallery itself); queries then search the augmented
    vectors at no added query-time cost.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    assert vectors.ndim == 2, vectors.shape
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    out = np.empty_like(vectors)
    for start in range(0, len(vectors), chunk):
        block = vectors[start : start + chunk]
        _, rows = index.search(block, k + 1)  # (B, k + 1), the item itself among them
        for i, row in enumerate(rows):
            others = row[(row >= 0) & (row != start + i)][:k]
            out[start + i] = alpha_query_expansion(block[i], vectors[others], alpha)
    return out
