"""eval.metrics against brute-force loop oracles on seeded data and hand-worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eval.dialogue_metrics import (
    bri,
    hits_at_k_by_turn,
    log2_best_rank_mean,
    recall_at_k_by_turn,
    success_within,
    turns_to_first_hit,
    turns_to_hit_summary,
)
from eval.metrics import (
    attribute_ranks,
    fashion_iq_average,
    recall_at_k,
    recall_subset_at_k,
    remove_items,
    subset_ranks,
    target_ranks,
)

SEEDS = [0, 1, 2, 3]


# ---- seeded synthetic data ----


def _rankings(rng: np.random.Generator, q: int, n: int, length: int) -> np.ndarray:
    """(q, length) distinct gallery indices per row, each a prefix of a random permutation."""
    return rng.permuted(np.tile(np.arange(n), (q, 1)), axis=1)[:, :length]


def _ranks_by_turn(rng: np.random.Generator, q: int = 40, turns: int = 6) -> np.ndarray:
    """(q, turns) ranks in -1..59, about a sixth missing."""
    ranks = rng.integers(0, 60, size=(q, turns))
    return np.where(rng.random((q, turns)) < 1 / 6, -1, ranks)


def _hit(rank: int, k: int) -> bool:
    return 0 <= rank < k


# ---- brute-force oracles: plain Python loops ----


def _oracle_first(row, predicate) -> int:
    for position, value in enumerate(row):
        if predicate(value):
            return position
    return -1


def _oracle_recall(ranks, k) -> float:
    return sum(_hit(int(r), k) for r in ranks) / len(ranks)


def _oracle_hits_by_turn(ranks_by_turn, k) -> list[float]:
    out = []
    for t in range(len(ranks_by_turn[0])):
        hits = [any(_hit(int(r), k) for r in row[: t + 1]) for row in ranks_by_turn]
        out.append(sum(hits) / len(hits))
    return out


def _oracle_bri(ranks_by_turn, gallery_size) -> float:
    per_dialogue = []
    for row in ranks_by_turn:
        best, logs = math.inf, []
        for r in row:
            one_based = gallery_size if r < 0 or r >= gallery_size else int(r) + 1
            best = min(best, one_based)
            logs.append(math.log2(best))
        per_dialogue.append(sum(logs) / len(logs))
    return sum(per_dialogue) / len(per_dialogue)


def _oracle_subset_rank(row, target, subset) -> int:
    members = set(subset)
    filtered = [item for item in row if item in members]
    return filtered.index(target) if target in members else -1


# ---- target_ranks / recall_at_k ----


def test_target_ranks_hand_example():
    rankings = np.array([[3, 1, 2], [0, 2, 1], [4, 4, 0], [-1, -1, -1]])
    assert target_ranks(rankings, np.array([2, 5, 4, 0])).tolist() == [2, -1, 0, -1]


@pytest.mark.parametrize("seed", SEEDS)
def test_target_ranks_matches_oracle(seed):
    rng = np.random.default_rng(seed)
    rankings = _rankings(rng, 50, 30, 12)
    targets = rng.integers(0, 30, size=50)
    expected = [
        _oracle_first(row, lambda v, t=t: v == t) for row, t in zip(rankings, targets, strict=True)
    ]
    got = target_ranks(rankings, targets)
    assert got.shape == (50,)
    assert got.tolist() == expected


def test_recall_at_k_hand_example():
    ranks = np.array([0, 3, -1, 9, 1, 12])
    got = recall_at_k(ranks, ks=(1, 2, 5, 10))
    assert got == pytest.approx({1: 1 / 6, 2: 2 / 6, 5: 3 / 6, 10: 4 / 6})
    assert list(recall_at_k(ranks)) == [1, 5, 10, 50]


@pytest.mark.parametrize("seed", SEEDS)
def test_recall_at_k_matches_oracle(seed):
    rng = np.random.default_rng(seed)
    ranks = rng.integers(-1, 80, size=200)
    got = recall_at_k(ranks, ks=(1, 3, 10, 50))
    assert got == pytest.approx({k: _oracle_recall(ranks, k) for k in (1, 3, 10, 50)})


# ---- attribute_ranks ----


def test_attribute_ranks_hand_example():
    item_labels = np.array([0, 1, 1, 2, 0])
    rankings = np.array([[3, 1, 2, 0], [4, 0, 3, -1], [0, 1, 2, 3], [-1, -1, -1, -1]])
    got = attribute_ranks(rankings, item_labels, np.array([1, 2, 7, 0]))
    assert got.tolist() == [1, 2, -1, -1]


@pytest.mark.parametrize("seed", SEEDS)
def test_attribute_ranks_matches_oracle(seed):
    rng = np.random.default_rng(seed)
    item_labels = rng.integers(0, 8, size=40)
    rankings = _rankings(rng, 30, 40, 10)
    target_labels = rng.integers(0, 9, size=30)  # label 8 never occurs
    expected = [
        _oracle_first(row, lambda v, t=t: item_labels[v] == t)
        for row, t in zip(rankings, target_labels, strict=True)
    ]
    assert attribute_ranks(rankings, item_labels, target_labels).tolist() == expected


def test_attribute_ranks_reduces_to_target_ranks_with_unique_labels():
    rng = np.random.default_rng(7)
    rankings = _rankings(rng, 20, 25, 8)
    targets = rng.integers(0, 25, size=20)
    got = attribute_ranks(rankings, np.arange(25), targets)
    assert got.tolist() == target_ranks(rankings, targets).tolist()


# ---- multi-turn ----


def test_multi_turn_hand_example_from_brief():
    ranks = np.array([[5, 2, 0], [-1, -1, 3]])
    assert recall_at_k_by_turn(ranks, 3).tolist() == [0.0, 0.5, 0.5]
    assert hits_at_k_by_turn(ranks, 3).tolist() == [0.0, 0.5, 0.5]
    assert recall_at_k_by_turn(ranks, 4).tolist() == [0.0, 0.5, 1.0]
    assert hits_at_k_by_turn(ranks, 4).tolist() == [0.0, 0.5, 1.0]


def test_multi_turn_hand_example_where_cumulative_differs():
    ranks = np.array([[0, 7, 9], [-1, 2, -1]])
    assert recall_at_k_by_turn(ranks, 3).tolist() == [0.5, 0.5, 0.0]
    assert hits_at_k_by_turn(ranks, 3).tolist() == [0.5, 1.0, 1.0]
    assert success_within(ranks, 3, 0) == 0.5
    assert success_within(ranks, 3, 1) == 1.0
    assert success_within(ranks, 3, 2) == 1.0
    assert turns_to_first_hit(ranks, 3).tolist() == [0.0, 1.0]
    assert turns_to_hit_summary(ranks, 3) == {"mean": 0.5, "median": 0.5, "hit_rate": 1.0}


def test_turns_to_hit_hand_example_with_misses():
    ranks = np.array([[9, 9, 0], [-1, -1, -1], [1, 0, 0], [5, 0, 3]])
    got = turns_to_first_hit(ranks, 1)
    np.testing.assert_array_equal(got, [2.0, np.nan, 1.0, 1.0])
    summary = turns_to_hit_summary(ranks, 1)
    assert summary == pytest.approx({"mean": 4 / 3, "median": 1.0, "hit_rate": 0.75})


def test_turns_to_hit_summary_when_nothing_hits():
    summary = turns_to_hit_summary(np.array([[-1, 4], [7, -1]]), 2)
    assert math.isnan(summary["mean"]) and math.isnan(summary["median"])
    assert summary["hit_rate"] == 0.0


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [1, 5, 20])
def test_multi_turn_matches_oracles(seed, k):
    rng = np.random.default_rng(seed)
    ranks = _ranks_by_turn(rng)
    n_turns = ranks.shape[1]
    by_turn = [_oracle_recall(ranks[:, t], k) for t in range(n_turns)]
    hits = _oracle_hits_by_turn(ranks.tolist(), k)
    first = [_oracle_first(row, lambda r: _hit(int(r), k)) for row in ranks]
    assert recall_at_k_by_turn(ranks, k) == pytest.approx(by_turn)
    assert hits_at_k_by_turn(ranks, k) == pytest.approx(hits)
    for t in range(n_turns):
        assert success_within(ranks, k, t) == pytest.approx(hits[t])
    expected_first = [float(f) if f >= 0 else math.nan for f in first]
    np.testing.assert_array_equal(turns_to_first_hit(ranks, k), expected_first)
    hit_turns = [f for f in first if f >= 0]
    summary = turns_to_hit_summary(ranks, k)
    assert summary["hit_rate"] == pytest.approx(len(hit_turns) / len(first))
    if hit_turns:
        assert summary["mean"] == pytest.approx(sum(hit_turns) / len(hit_turns))
        assert summary["median"] == pytest.approx(float(np.median(hit_turns)))


@pytest.mark.parametrize("seed", SEEDS)
def test_hits_at_k_by_turn_is_monotone_and_bounds_recall(seed):
    rng = np.random.default_rng(seed)
    ranks = _ranks_by_turn(rng, q=60, turns=8)
    for k in (1, 3, 10):
        hits = hits_at_k_by_turn(ranks, k)
        assert (np.diff(hits) >= 0).all()
        assert (hits >= recall_at_k_by_turn(ranks, k) - 1e-12).all()
        assert hits[0] == recall_at_k_by_turn(ranks, k)[0]


# ---- BRI ----


def test_bri_is_zero_when_always_first():
    assert log2_best_rank_mean(np.zeros((5, 4), dtype=int), gallery_size=100) == 0.0


def test_bri_hand_examples():
    # q0: 1-based best ranks [1, 1] -> logs [0, 0] -> 0; q1: [4, 2] -> [2, 1] -> 1.5.
    assert log2_best_rank_mean(np.array([[0, 0], [3, 1]]), gallery_size=8) == pytest.approx(0.75)
    # q0: missing counts as 16: best [16, 8, 2] -> [4, 3, 1] -> 8/3;
    # q1: [2, 4, 1] -> best [2, 2, 1] (no worsening) -> [1, 1, 0] -> 2/3.
    ranks = np.array([[-1, 7, 1], [1, 3, 0]])
    assert log2_best_rank_mean(ranks, gallery_size=16) == pytest.approx(5 / 3)
    # A rank past the gallery counts as missing: log2(16) = 4 at every turn.
    assert log2_best_rank_mean(np.array([[20, -1]]), gallery_size=16) == pytest.approx(4.0)


@pytest.mark.parametrize("seed", SEEDS)
def test_bri_matches_oracle(seed):
    rng = np.random.default_rng(seed)
    ranks = _ranks_by_turn(rng)
    for gallery_size in (50, 60, 1000):
        assert log2_best_rank_mean(ranks, gallery_size) == pytest.approx(
            _oracle_bri(ranks.tolist(), gallery_size)
        )


# ---- PlugIR's BRI ----


def _plugir_eval_bri(ranks: list[list[int]]) -> float:
    """Saehyung-Lee/PlugIR eval.py `PlugIREval.run` (commit ce79c9f), loop for loop.

    `dialog_recalls` is round dl's 0-based target rank of every dialogue; torch.minimum and
    torch.log become per-element Python calls, `.mean()` a sum over dialogues.
    """
    num_rounds = len(ranks[0])
    min_ranks = []
    for dl in range(num_rounds):
        dialog_recalls = [row[dl] for row in ranks]
        if dl == 0:
            min_ranks.append(dialog_recalls)
        else:
            min_ranks.append([min(a, b) for a, b in zip(min_ranks[dl - 1], dialog_recalls)])
    bri = 0
    for dl in range(num_rounds - 1):
        halves = [
            (math.log(a + 1.0) + math.log(b + 1.0)) / 2
            for a, b in zip(min_ranks[dl], min_ranks[dl + 1])
        ]
        bri += sum(halves) / len(halves)
    bri /= num_rounds - 1
    return bri


PLUGIR_FIXED = [
    [[0, 0]],
    [[3, 1]],
    [[5, 10, 2], [0, 7, 7]],  # worse ranks later: the running minimum ignores them
    [[49999, 120, 300, 4, 4, 9, 0, 0, 1, 0, 2]],  # PlugIR's 11 rounds, a 50k gallery
    [[7, 7, 7, 7], [1, 2, 3, 4], [100, 50, 25, 60], [0, 9, 0, 9]],
]


def test_plugir_bri_hand_examples():
    assert bri(np.zeros((4, 11), dtype=int)) == 0.0
    # One interval: (ln 4 + ln 2) / 2 = 1.5 ln 2.
    assert bri(np.array([[3, 1]])) == pytest.approx(1.5 * math.log(2), abs=1e-12)
    # Best ranks [5, 5, 2]: ((ln6 + ln6)/2 + (ln6 + ln3)/2) / 2; the 10 is ignored.
    want = (math.log(6) + (math.log(6) + math.log(3)) / 2) / 2
    assert bri(np.array([[5, 10, 2]])) == pytest.approx(want, abs=1e-12)


def test_plugir_bri_ignores_ranks_that_get_worse():
    worse = np.array([[5, 10, 2, 40], [0, 3, 8, 1]])
    running_min = np.array([[5, 5, 2, 2], [0, 0, 0, 0]])
    assert bri(worse) == bri(running_min)


@pytest.mark.parametrize("ranks", PLUGIR_FIXED)
def test_plugir_bri_matches_plugir_loop_on_fixed_ranks(ranks):
    assert abs(bri(np.array(ranks)) - _plugir_eval_bri(ranks)) < 1e-9


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "rounds", "gallery"), [(1, 2, 10), (37, 11, 50_000), (200, 5, 100)])
def test_plugir_bri_matches_plugir_loop_on_seeded_ranks(seed, n, rounds, gallery):
    rng = np.random.default_rng(seed)
    ranks = rng.integers(0, gallery, size=(n, rounds))  # improves and worsens at random
    assert abs(bri(ranks) - _plugir_eval_bri(ranks.tolist())) < 1e-9


@pytest.mark.parametrize(
    ("ranks", "says"),
    [
        (np.array([0, 1, 2]), "dimension"),
        (np.zeros((3, 1), dtype=int), "at least 2 rounds"),
        (np.zeros((0, 3), dtype=int), "at least one dialogue"),
        (np.array([[0, -1]]), "non-negative"),
        (np.array([[0.0, 1.0]]), "integer"),
    ],
)
def test_plugir_bri_rejects_bad_ranks(ranks, says):
    with pytest.raises(ValueError, match="^best_ranks:") as info:
        bri(ranks)
    assert says in str(info.value)
    assert "\n" not in str(info.value)


# ---- CIRR ----


def test_remove_items_hand_example():
    rankings = np.array([[4, 2, 7, 1], [3, 5, 6, 0], [8, 8, 1, 2]])
    got = remove_items(rankings, np.array([7, 9, 8]))
    assert got.tolist() == [[4, 2, 1], [3, 5, 6], [8, 1, 2]]


@pytest.mark.parametrize("seed", SEEDS)
def test_remove_items_matches_oracle(seed):
    rng = np.random.default_rng(seed)
    rankings = _rankings(rng, 30, 20, 10)
    items = rng.integers(0, 20, size=30)
    expected = []
    for row, item in zip(rankings.tolist(), items, strict=True):
        row = list(row)
        if item in row:
            row.remove(item)
        else:
            row.pop()
        expected.append(row)
    assert remove_items(rankings, items).tolist() == expected


def test_subset_ranks_hand_example():
    rankings = np.array([[5, 1, 3, 0, 2, 4], [2, 0, 4, 1, 3, 5], [0, 1, 2, 3, 4, 5]])
    targets = np.array([3, 1, 5])
    subsets = [[0, 3, 4], [5, 1, 2], [0, 1]]  # filtered: [3, 0, 4], [2, 1, 5], [0, 1]
    assert subset_ranks(rankings, targets, subsets).tolist() == [0, 1, -1]
    got = recall_subset_at_k(rankings, targets, subsets)
    assert got == pytest.approx({1: 1 / 3, 2: 2 / 3, 3: 2 / 3})


@pytest.mark.parametrize("seed", SEEDS)
def test_cirr_protocol_matches_oracle(seed):
    rng = np.random.default_rng(seed)
    q, n = 25, 30
    full = _rankings(rng, q, n, n)
    references = rng.integers(0, n, size=q)
    rankings = remove_items(full, references)  # (q, n - 1)
    subsets, targets = [], []
    for reference in references:
        others = [i for i in range(n) if i != reference]
        subset = [int(i) for i in rng.choice(others, size=int(rng.integers(1, 6)), replace=False)]
        subsets.append(subset)
        in_subset = rng.random() < 0.9
        targets.append(subset[0] if in_subset else int(rng.choice(others)))
    targets = np.array(targets)
    expected = [
        _oracle_subset_rank(r, t, s)
        for r, t, s in zip(rankings.tolist(), targets, subsets, strict=True)
    ]
    assert subset_ranks(rankings, targets, subsets).tolist() == expected
    got = recall_subset_at_k(rankings, targets, subsets)
    assert got == pytest.approx({k: _oracle_recall(expected, k) for k in (1, 2, 3)})


def test_subset_member_missing_from_ranking_raises():
    rankings = remove_items(np.array([[2, 0, 1, 3]]), np.array([0]))  # [[2, 1, 3]]
    with pytest.raises(ValueError, match="^subsets:"):
        subset_ranks(rankings, np.array([1]), [[0, 1]])  # 0 is the removed reference


# ---- FashionIQ ----


def test_fashion_iq_average_hand_example():
    recalls = {
        "dress": {10: 0.2, 50: 0.4},
        "shirt": {10: 0.3, 50: 0.5},
        "toptee": {1: 0.05, 10: 0.1, 50: 0.6},
    }
    got = fashion_iq_average(recalls)
    assert got == pytest.approx({"r10": 0.2, "r50": 0.5, "average": 0.35})


# ---- bad shapes and arguments ----

RANKINGS = np.array([[0, 1, 2], [2, 1, 0]])
TURNS = np.array([[0, 1], [2, -1]])


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: target_ranks(RANKINGS[0], np.array([0])), "rankings"),
        (lambda: target_ranks(RANKINGS, np.array([0, 1, 2])), "targets"),
        (lambda: target_ranks(RANKINGS, np.array([[0], [1]])), "targets"),
        (lambda: target_ranks(RANKINGS.astype(float), np.array([0, 1])), "rankings"),
        (lambda: recall_at_k(np.array([[0, 1]])), "ranks"),
        (lambda: recall_at_k(np.array([], dtype=int)), "ranks"),
        (lambda: recall_at_k(np.array([0, 1]), ks=(0,)), "ks"),
        (lambda: recall_at_k(np.array([0, 1]), ks=()), "ks"),
        (lambda: attribute_ranks(RANKINGS, np.array([[0, 1, 2]]), np.array([0, 1])), "item_labels"),
        (lambda: attribute_ranks(RANKINGS, np.array([0, 1]), np.array([0, 1])), "rankings"),
        (lambda: attribute_ranks(RANKINGS, np.array([0, 1, 2]), np.array([0])), "target_labels"),
        (lambda: recall_at_k_by_turn(TURNS[0], 1), "ranks_by_turn"),
        (lambda: recall_at_k_by_turn(np.zeros((2, 0), dtype=int), 1), "ranks_by_turn"),
        (lambda: hits_at_k_by_turn(TURNS, 0), "k"),
        (lambda: hits_at_k_by_turn(TURNS[None], 1), "ranks_by_turn"),
        (lambda: success_within(TURNS, 1, 2), "n_turns"),
        (lambda: success_within(TURNS, 1, -1), "n_turns"),
        (lambda: turns_to_first_hit(TURNS[0], 1), "ranks_by_turn"),
        (lambda: turns_to_hit_summary(TURNS, 1.5), "k"),
        (lambda: log2_best_rank_mean(TURNS[0], 10), "ranks_by_turn"),
        (lambda: log2_best_rank_mean(TURNS, 0), "gallery_size"),
        (lambda: remove_items(RANKINGS, np.array([0])), "items_to_remove"),
        (lambda: remove_items(np.zeros((2, 0), dtype=int), np.array([0, 1])), "rankings"),
        (lambda: subset_ranks(RANKINGS, np.array([0, 1]), [[0]]), "subsets"),
        (lambda: subset_ranks(RANKINGS, np.array([0]), [[0], [1]]), "targets"),
        (
            lambda: subset_ranks(np.array([[0, 0, 1], [2, 1, 0]]), np.array([0, 1]), [[0], [1]]),
            "rankings",
        ),
        (lambda: recall_subset_at_k(RANKINGS, np.array([0, 1]), [[0], [1]], ks=(0,)), "ks"),
        (lambda: fashion_iq_average({}), "recalls_by_category"),
        (lambda: fashion_iq_average({"dress": {10: 0.1}}), "recalls_by_category"),
    ],
)
def test_bad_arguments_raise_one_line_value_error(call, name):
    with pytest.raises(ValueError, match=f"^{name}:") as info:
        call()
    assert "\n" not in str(info.value)
