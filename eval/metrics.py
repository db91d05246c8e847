"""Single-turn retrieval metrics as pure numpy array functions, CIRR's and FashionIQ's included.

Conventions: a rank is the 0-based position of the target in a ranking; -1 (or any negative
value) and any rank >= the ranking length mean "not found". Recalls are fractions in [0, 1].
Rankings may carry faiss-style -1 padding where fewer results than columns were returned.
Multi-turn metrics are in eval/dialogue_metrics.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from eval.metric_inputs import check_ks, check_rows, first_match, float_ranks, int_array


def target_ranks(rankings: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """0-based position of each query's target in its ranking, -1 if absent.

    Args:
        rankings: (Q, L) int item indices in ranked order (-1 padding allowed).
        targets: (Q,) int non-negative item index of each query's target.

    Returns:
        (Q,) int64 rank of the first occurrence of the target, or -1.
    """
    rankings = int_array(rankings, "rankings", 2)
    targets = int_array(targets, "targets", 1)
    check_rows(targets, "targets", rankings.shape[0], "rankings")
    if (targets < 0).any():
        raise ValueError("targets: expected non-negative item indices")
    return first_match(rankings == targets[:, None])  # (Q, L) -> (Q,)


def recall_at_k(ranks: np.ndarray, ks: Sequence[int] = (1, 5, 10, 50)) -> dict[int, float]:
    """Share of queries whose target rank r satisfies 0 <= r < k, for each cutoff k.

    Args:
        ranks: (Q,) int target ranks, -1 for not found; Q >= 1.
        ks: positive cutoffs.

    Returns:
        {k: recall@k} with recalls in [0, 1].
    """
    r = float_ranks(ranks, "ranks", 1)  # (Q,), inf = not found
    return {k: float(np.mean(r < k)) for k in check_ks(ks)}


def attribute_ranks(
    rankings: np.ndarray, item_labels: np.ndarray, target_labels: np.ndarray
) -> np.ndarray:
    """0-based position of the first ranked item carrying each query's target label, -1 if none.

    Used for attribute-level recall: a label is e.g. an encoded attribute combination, and any
    item with the target's combination counts as a hit.

    Args:
        rankings: (Q, L) int gallery indices into item_labels in ranked order (-1 padding allowed).
        item_labels: (N,) int label id of every gallery item.
        target_labels: (Q,) int label id of each query's target.

    Returns:
        (Q,) int64 rank of the first item whose label equals the target label, or -1.
    """
    rankings = int_array(rankings, "rankings", 2)
    item_labels = int_array(item_labels, "item_labels", 1)
    target_labels = int_array(target_labels, "target_labels", 1)
    check_rows(target_labels, "target_labels", rankings.shape[0], "rankings")
    if (rankings >= item_labels.shape[0]).any():
        raise ValueError(
            f"rankings: item index out of range for {item_labels.shape[0]} item_labels"
        )
    valid = rankings >= 0  # (Q, L), False on -1 padding
    if not valid.any():
        return first_match(valid)
    labels = item_labels[np.where(valid, rankings, 0)]  # (Q, L)
    return first_match(valid & (labels == target_labels[:, None]))


# ---- CIRR ----


def remove_items(rankings: np.ndarray, items_to_remove: np.ndarray) -> np.ndarray:
    """Drop each query's item (CIRR: its reference image) from its ranking, keeping the order.

    Only the first occurrence is dropped; where the item is absent the last column is dropped
    instead, so the result stays rectangular.

    Args:
        rankings: (Q, L) int item indices in ranked order, L >= 1.
        items_to_remove: (Q,) int item to drop from each row.

    Returns:
        (Q, L-1) rankings with one entry removed per row.
    """
    rankings = int_array(rankings, "rankings", 2)
    items_to_remove = int_array(items_to_remove, "items_to_remove", 1)
    check_rows(items_to_remove, "items_to_remove", rankings.shape[0], "rankings")
    q, length = rankings.shape
    if length == 0:
        raise ValueError("rankings: expected at least one column to remove")
    drop = first_match(rankings == items_to_remove[:, None])  # (Q,)
    drop = np.where(drop >= 0, drop, length - 1)
    keep = np.ones(rankings.shape, dtype=bool)  # (Q, L)
    keep[np.arange(q), drop] = False
    return rankings[keep].reshape(q, length - 1)


def _pad_subsets(subsets: Sequence[Sequence[int]], n_rows: int) -> np.ndarray:
    """Ragged subsets -> (Q, S) int64 with -1 padding, duplicates within a subset dropped."""
    if len(subsets) != n_rows:
        raise ValueError(
            f"subsets: expected {n_rows} entries (one per row of rankings), got {len(subsets)}"
        )
    unique = [list(dict.fromkeys(int(i) for i in s)) for s in subsets]
    padded = np.full((n_rows, max((len(s) for s in unique), default=0)), -1, dtype=np.int64)
    for q, members in enumerate(unique):
        padded[q, : len(members)] = members
    if (padded < -1).any():
        raise ValueError("subsets: expected non-negative item indices")
    return padded


def subset_ranks(
    rankings: np.ndarray, targets: np.ndarray, subsets: Sequence[Sequence[int]]
) -> np.ndarray:
    """0-based rank of each target within its ranking filtered to its subset, -1 if not a member.

    Args:
        rankings: (Q, L) int full rankings of the gallery (no repeats), reference already removed.
        targets: (Q,) int target item of each query.
        subsets: Q lists of item indices (CIRR img_set members minus the reference); every
            member must appear in its ranking.

    Returns:
        (Q,) int64 number of subset members ranked before the target, or -1 if the target is
        not in its subset.
    """
    rankings = int_array(rankings, "rankings", 2)
    targets = int_array(targets, "targets", 1)
    check_rows(targets, "targets", rankings.shape[0], "rankings")
    members = _pad_subsets(subsets, rankings.shape[0])  # (Q, S), -1 padding
    if (rankings < 0).any():
        raise ValueError("rankings: expected non-negative item indices (full rankings, no padding)")
    if (targets < 0).any():
        raise ValueError("targets: expected non-negative item indices")
    q, length = rankings.shape
    if length > 1 and (np.diff(np.sort(rankings, axis=1), axis=1) == 0).any():
        raise ValueError("rankings: a row repeats an item; expected full rankings")
    n_ids = int(max(rankings.max(initial=-1), targets.max(initial=-1), members.max(initial=-1))) + 1
    position = np.full((q, n_ids), -1, dtype=np.int64)  # (Q, n_ids), -1 = not ranked
    position[np.arange(q)[:, None], rankings] = np.arange(length)
    rows = np.arange(q)[:, None]
    is_member = members >= 0  # (Q, S)
    member_pos = np.where(is_member, position[rows, np.maximum(members, 0)], -1)  # (Q, S)
    if (is_member & (member_pos < 0)).any():
        bad = int(np.argwhere(is_member & (member_pos < 0))[0, 0])
        raise ValueError(
            f"subsets: subset {bad} has a member missing from its ranking (reference?)"
        )
    target_pos = position[np.arange(q), targets][:, None]  # (Q, 1)
    before = (is_member & (member_pos < target_pos)).sum(axis=1)  # (Q,)
    in_subset = (members == targets[:, None]).any(axis=1)  # (Q,)
    return np.where(in_subset, before, -1).astype(np.int64)


def recall_subset_at_k(
    rankings: np.ndarray,
    targets: np.ndarray,
    subsets: Sequence[Sequence[int]],
    ks: Sequence[int] = (1, 2, 3),
) -> dict[int, float]:
    """CIRR Recall_subset@k: recall of the target within the first k of its subset's ranking.

    Args:
        rankings: (Q, L) int full rankings of the gallery (no repeats), reference already removed.
        targets: (Q,) int target item of each query.
        subsets: Q lists of item indices (CIRR img_set members minus the reference).
        ks: positive cutoffs.

    Returns:
        {k: recall_subset@k} in [0, 1]; a target outside its subset counts as a miss.
    """
    return recall_at_k(subset_ranks(rankings, targets, subsets), ks)


# ---- FashionIQ ----


def fashion_iq_average(recalls_by_category: dict[str, dict[int, float]]) -> dict[str, float]:
    """FashionIQ summary: mean R@10 and R@50 over categories and their average.

    Args:
        recalls_by_category: {category: {10: R@10, 50: R@50, ...}}, at least one category.

    Returns:
        {"r10": mean R@10, "r50": mean R@50, "average": (r10 + r50) / 2}.
    """
    if not recalls_by_category:
        raise ValueError("recalls_by_category: expected at least one category")
    for name, recalls in recalls_by_category.items():
        if 10 not in recalls or 50 not in recalls:
            raise ValueError(f"recalls_by_category: category {name!r} lacks R@10 or R@50")
    r10 = float(np.mean([r[10] for r in recalls_by_category.values()]))
    r50 = float(np.mean([r[50] for r in recalls_by_category.values()]))
    return {"r10": r10, "r50": r50, "average": (r10 + r50) / 2}
