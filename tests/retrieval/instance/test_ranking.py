"""mAP and precision@10 on hand-made rankings."""

from __future__ import annotations

import numpy as np

from retrieval.instance.ranking import average_precisions, drop_query, map_and_precision


def test_ap_of_a_hand_made_ranking():
    groups = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 2])  # query row 0 has positives 1 and 2
    ranking = np.array([[3, 1, 5, 2]])  # positives at ranks 2 and 4
    ap, p10 = average_precisions(ranking, groups, np.array([0]))
    assert ap[0] == (1 / 2 + 2 / 4) / 2
    assert p10[0] == 2 / 10


def test_positives_beyond_the_ranking_add_zero():
    groups = np.array([0, 0, 0, 1])
    ap, _ = average_precisions(np.array([[1, 3, -1]]), groups, np.array([0]))
    assert ap[0] == (1 / 1) / 2  # row 2 never ranked


def test_drop_query_removes_the_query_and_keeps_the_order():
    rankings = np.array([[0, 4, 2, 1], [3, 1, 0, 2]])
    out = drop_query(rankings, np.array([0, 1]), 3)
    np.testing.assert_array_equal(out, [[4, 2, 1], [3, 0, 2]])


def test_map_is_the_mean_over_queries():
    groups = np.array([0, 0, 1, 1])
    rankings = np.array([[1, 2, 3], [3, 0, 1]])  # q0: rank 1 -> 1.0 ; q1 (row 2): rank 1 -> 1.0
    queries = np.array([0, 2])
    assert map_and_precision(rankings, groups, queries) == {"map": 1.0, "precision_at_10": 0.1}
    worst = np.array([[2, 3, 1], [0, 1, 3]])  # each positive at rank 3
    assert map_and_precision(worst, groups, queries)["map"] == round(1 / 3, 4)


def test_the_query_itself_never_counts():
    groups = np.array([0, 0, 1])
    ap, _ = average_precisions(np.array([[0, 2, 1]]), groups, np.array([0]))
    assert ap[0] == 1 / 3
