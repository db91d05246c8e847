"""Instance retrieval metrics as pure array functions (Oxford protocol: the query is removed
from its own ranking; its positives are the other items of its group)."""

from __future__ import annotations

import numpy as np


def drop_query(rankings: np.ndarray, queries: np.ndarray, depth: int) -> np.ndarray:
    """(Q, depth) rankings without each query's own row (rankings (Q, R >= depth + 1))."""
    rankings, queries = np.asarray(rankings), np.asarray(queries)
    assert rankings.ndim == 2 and len(rankings) == len(queries), (rankings.shape, queries.shape)
    out = np.full((len(rankings), depth), -1, np.int64)
    for i, (row, q) in enumerate(zip(rankings, queries)):
        kept = row[(row != q) & (row >= 0)][:depth]
        out[i, : len(kept)] = kept
    return out


def average_precisions(
    rankings: np.ndarray, groups: np.ndarray, queries: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(AP (Q,), precision@10 (Q,)) of rankings (Q, R) of gallery rows (-1 = none).

    Args:
        rankings: each query's ranked gallery rows, the query itself already removed.
        groups: (N,) group of every gallery row; a query's positives are the other rows of its
            group. Positives ranked beyond R add 0 to its AP (the count of positives is exact).
        queries: (Q,) gallery row of each query.
    """
    rankings, groups, queries = np.asarray(rankings), np.asarray(groups), np.asarray(queries)
    assert rankings.ndim == 2 and rankings.shape[0] == len(queries), rankings.shape
    counts = np.bincount(groups)[groups[queries]] - 1  # (Q,) positives of each query
    relevant = (rankings >= 0) & (groups[np.maximum(rankings, 0)] == groups[queries][:, None])
    relevant &= rankings != queries[:, None]  # the query itself never counts
    hits = np.cumsum(relevant, axis=1)  # (Q, R)
    ranks = np.arange(1, rankings.shape[1] + 1)
    precision_sum = (relevant * hits / ranks).sum(axis=1)
    ap = np.where(counts > 0, precision_sum / np.maximum(counts, 1), 0.0)
    return ap, relevant[:, :10].sum(axis=1) / 10.0


def map_and_precision(rankings, groups, queries) -> dict[str, float]:
    """{"map": mean AP, "precision_at_10": mean precision@10} over the queries."""
    ap, p10 = average_precisions(rankings, groups, queries)
    return {"map": round(float(ap.mean()), 4), "precision_at_10": round(float(p10.mean()), 4)}
