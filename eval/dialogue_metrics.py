"""Multi-turn metrics of replayed dialogues, as pure numpy array functions.

ranks_by_turn is (Q, T+1): column t is the target's rank at turn t (t = 0: the starting
results), -1 when it is not in the ranking.
"""

from __future__ import annotations

import numpy as np

from eval.metric_inputs import check_k, first_match, float_ranks, int_array


def _hits_by_turn(ranks_by_turn: np.ndarray, k: int) -> np.ndarray:
    """(Q, T+1) ranks -> (Q, T+1) bool: target within the first k at turn t."""
    return float_ranks(ranks_by_turn, "ranks_by_turn", 2) < check_k(k)


def recall_at_k_by_turn(ranks_by_turn: np.ndarray, k: int) -> np.ndarray:
    """Share of dialogues whose target is within the first k results at each turn.

    Args:
        ranks_by_turn: (Q, T+1) int rank at turn t (t = 0 the starting results), -1 if missing.
        k: positive cutoff.

    Returns:
        (T+1,) float64 recall@k per turn.
    """
    return _hits_by_turn(ranks_by_turn, k).mean(axis=0)


def hits_at_k_by_turn(ranks_by_turn: np.ndarray, k: int) -> np.ndarray:
    """Share of dialogues whose target was within the first k at any turn <= t (cumulative).

    Args:
        ranks_by_turn: (Q, T+1) int rank at turn t (t = 0 the starting results), -1 if missing.
        k: positive cutoff.

    Returns:
        (T+1,) float64 cumulative hit rate per turn, non-decreasing.
    """
    hits = _hits_by_turn(ranks_by_turn, k)  # (Q, T+1)
    return np.logical_or.accumulate(hits, axis=1).mean(axis=0)


def success_within(ranks_by_turn: np.ndarray, k: int, n_turns: int) -> float:
    """Share of dialogues whose target was within the first k at some turn t <= n_turns.

    Args:
        ranks_by_turn: (Q, T+1) int rank at turn t (t = 0 the starting results), -1 if missing.
        k: positive cutoff.
        n_turns: last turn index counted, 0 <= n_turns <= T.

    Returns:
        Success rate in [0, 1].
    """
    hits = _hits_by_turn(ranks_by_turn, k)  # (Q, T+1)
    if isinstance(n_turns, bool) or not isinstance(n_turns, int | np.integer):
        raise ValueError(f"n_turns: expected an integer, got {n_turns!r}")
    if not 0 <= n_turns < hits.shape[1]:
        raise ValueError(
            f"n_turns: expected 0..{hits.shape[1] - 1} for {hits.shape[1]} turns, got {n_turns}"
        )
    return float(hits[:, : n_turns + 1].any(axis=1).mean())


def turns_to_first_hit(ranks_by_turn: np.ndarray, k: int) -> np.ndarray:
    """Index of the first turn at which each target is within the first k, NaN if never.

    Args:
        ranks_by_turn: (Q, T+1) int rank at turn t (t = 0 the starting results), -1 if missing.
        k: positive cutoff.

    Returns:
        (Q,) float64 first hit turn (0 = hit in the starting results), or np.nan.
    """
    first = first_match(_hits_by_turn(ranks_by_turn, k))  # (Q,), -1 = never
    return np.where(first >= 0, first, np.nan).astype(np.float64)


def turns_to_hit_summary(ranks_by_turn: np.ndarray, k: int) -> dict[str, float]:
    """Mean and median first hit turn over dialogues that hit, and the share that hit.

    Args:
        ranks_by_turn: (Q, T+1) int rank at turn t (t = 0 the starting results), -1 if missing.
        k: positive cutoff.

    Returns:
        {"mean", "median"} (NaN when no dialogue hits) and "hit_rate" in [0, 1].
    """
    turns = turns_to_first_hit(ranks_by_turn, k)  # (Q,)
    hit = turns[~np.isnan(turns)]
    return {
        "mean": float(hit.mean()) if hit.size else float("nan"),
        "median": float(np.median(hit)) if hit.size else float("nan"),
        "hit_rate": float(hit.size / turns.size),
    }


def log2_best_rank_mean(ranks_by_turn: np.ndarray, gallery_size: int) -> float:
    """circhat's earlier "BRI" (before it followed PlugIR's code; see `bri`): lower is better,
    and not comparable with PlugIR's figures.

    mean_q [ (1/(T+1)) * sum_{t=0..T} log2(best_rank_q(t)) ], where
    best_rank_q(t) = min_{s<=t} (rank_q(s) + 1) is the 1-based best rank so far and a missing
    rank (-1, or >= gallery_size) counts as gallery_size. BRI is 0 exactly when every target is
    first from turn 0 on. PlugIR integrates the area under the log best-rank curve; this is the
    trapezoid-free, per-turn-average form of that integral.

    Args:
        ranks_by_turn: (Q, T+1) int rank at turn t (t = 0 the starting results), -1 if missing.
        gallery_size: positive number of gallery items.

    Returns:
        BRI in [0, log2(gallery_size)].
    """
    r = float_ranks(ranks_by_turn, "ranks_by_turn", 2)  # (Q, T+1), inf = missing
    gallery_size = check_k(gallery_size, "gallery_size")
    one_based = np.minimum(r + 1, gallery_size)  # (Q, T+1)
    best = np.minimum.accumulate(one_based, axis=1)  # (Q, T+1), best rank so far
    return float(np.log2(best).mean(axis=1).mean())


def _check_plugir_ranks(best_ranks) -> np.ndarray:
    """(N, T+1) non-negative integer ranks with N >= 1 and T+1 >= 2, else a one-line ValueError."""
    r = int_array(best_ranks, "best_ranks", 2)
    if r.shape[0] == 0:
        raise ValueError(f"best_ranks: expected at least one dialogue (row), got shape {r.shape}")
    if r.shape[1] < 2:
        raise ValueError(
            f"best_ranks: expected at least 2 rounds (columns: round 0 and one more), "
            f"got shape {r.shape}; BRI integrates over rounds"
        )
    if (r < 0).any():
        raise ValueError(
            "best_ranks: expected non-negative 0-based ranks in the whole gallery (PlugIR has no "
            f"'not found'), got {int(r.min())}"
        )
    return r


def bri(best_ranks: np.ndarray) -> float:
    """Best log Rank Integral as PlugIR's eval.py computes it (Lee et al. 2024); lower is better.

    With r_t = min_{s<=t} rank(s) the best 0-based rank so far in the whole gallery,
    BRI = (1/T) * sum_{t=0..T-1} mean_dialogues (ln(r_t + 1) + ln(r_{t+1} + 1)) / 2:
    the trapezoid rule over rounds of the natural log of the 1-based best rank, divided by
    the number of intervals T. Transcribed from Saehyung-Lee/PlugIR eval.py
    (`PlugIREval.run`, commit ce79c9f "fix bri"): `min_ranks` is the running
    `torch.minimum` of each round's 0-based target rank, then
    `bri += ((log(min_ranks[dl] + 1.) + log(min_ranks[dl + 1] + 1.)) / 2).mean()` for
    dl in 0..num_rounds-2, and `bri /= num_rounds - 1`.

    Differences from PlugIR's code, all outside the formula: PlugIR works in float32 (a long
    tensor plus 1.), this in float64 (they agree to about 1e-7 relative); PlugIR's first
    commit (915c8af) integrated the raw best ranks without the log, fixed in ce79c9f, which
    this follows; with one round PlugIR divides by zero, this raises a ValueError. Unlike
    `log2_best_rank_mean`: natural log, 0-based ranks plus 1, trapezoid, no clipping.

    Args:
        best_ranks: (N, T+1) non-negative int 0-based rank of each dialogue's target in the
            whole gallery at rounds 0..T (T >= 1); the running minimum is taken here, so ranks
            that get worse in a later round are ignored.

    Returns:
        BRI in [0, ln(gallery size)]; 0 exactly when every target is first from round 0.
    """
    r = _check_plugir_ranks(best_ranks)
    best = np.minimum.accumulate(r, axis=1).astype(np.float64)  # (N, T+1), best rank so far
    logs = np.log(best + 1.0)  # (N, T+1)
    intervals = (logs[:, :-1] + logs[:, 1:]) / 2  # (N, T), trapezoid per interval
    return float(intervals.mean(axis=0).sum() / intervals.shape[1])
