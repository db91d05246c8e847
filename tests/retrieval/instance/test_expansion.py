"""Query expansion and DBA against hand computations."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.instance.expansion import (
    alpha_query_expansion,
    average_query_expansion,
    database_augmentation,
    expand_queries,
)


def unit(x):
    x = np.asarray(x, np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_aqe_is_the_unit_mean_of_query_and_neighbours():
    q = unit([1, 0, 0])
    n = unit([[0, 1, 0], [0, 0, 1]])
    expected = unit([1, 1, 1])  # (q + n1 + n2) / 3, normalised
    np.testing.assert_allclose(average_query_expansion(q, n), expected, atol=1e-6)
    np.testing.assert_allclose(alpha_query_expansion(q, n, 0.0), expected, atol=1e-6)


def test_alpha_qe_weighs_neighbours_by_similarity_to_the_power_alpha():
    q = unit([1, 0])
    n = unit([[1, 1], [1, -3]])  # cosines 0.7071 and 0.3162
    w = np.array([0.70710678, 0.31622777]) ** 3
    expected = unit(q + w[0] * n[0] + w[1] * n[1])
    np.testing.assert_allclose(alpha_query_expansion(q, n, 3.0), expected, atol=1e-6)


def test_alpha_qe_ignores_dissimilar_neighbours_and_keeps_a_lone_query():
    q = unit([1, 0])
    np.testing.assert_allclose(alpha_query_expansion(q, unit([[-1, 0]]), 3.0), q, atol=1e-6)
    np.testing.assert_allclose(alpha_query_expansion(q, np.zeros((0, 2)), 3.0), q)
    with pytest.raises(AssertionError):
        alpha_query_expansion(q, unit([[1, 0, 0]]), 3.0)


def test_expand_queries_matches_one_at_a_time():
    rng = np.random.default_rng(0)
    vectors = unit(rng.normal(size=(6, 4)))
    rows = np.array([[1, 2], [3, -1]])
    out = expand_queries(vectors[:2], vectors, rows, 3.0)
    np.testing.assert_allclose(out[0], alpha_query_expansion(vectors[0], vectors[[1, 2]], 3.0))
    np.testing.assert_allclose(out[1], alpha_query_expansion(vectors[1], vectors[[3]], 3.0))


def test_dba_merges_each_vector_with_its_nearest_other():
    vectors = unit([[1, 0], [1, 0.2], [0, 1]])
    out = database_augmentation(vectors, k=1, alpha=0.0)
    np.testing.assert_allclose(out[0], unit(vectors[0] + vectors[1]), atol=1e-6)
    np.testing.assert_allclose(out[1], unit(vectors[1] + vectors[0]), atol=1e-6)
    np.testing.assert_allclose(out[2], unit(vectors[2] + vectors[1]), atol=1e-6)


def test_the_flat_index_of_a_mapped_file_keeps_its_rows_and_not_the_file(tmp_path):
    """The DBA vectors are read into the index's memory once; the view searched for query
    expansion reads them there, holding no page of the memory-mapped file."""
    from retrieval.instance.search import flat_index_of

    rows = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)  # unit rows: each its own nearest
    np.save(tmp_path / "dba.npy", rows)
    mapped = np.load(tmp_path / "dba.npy", mmap_mode="r")
    flat, stored = flat_index_of(mapped)
    del mapped
    assert flat.ntotal == 50 and np.array_equal(stored, rows)
    assert not isinstance(stored.base, np.memmap) and not stored.flags.writeable
    scores, found = flat.search(rows[:3], 1)
    assert found[:, 0].tolist() == [0, 1, 2]
