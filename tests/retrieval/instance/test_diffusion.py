"""Diffusion on tiny graphs: the manifold neighbour beats the Euclidean one."""

from __future__ import annotations

import faiss
import numpy as np
import scipy.sparse as sp

from retrieval.instance.diffusion import (
    KnnGraph,
    conjugate_gradient,
    diffuse,
    knn_graph,
    normalised,
)
from retrieval.instance.query import Expander, ExpansionSettings


def flat_index(vectors):
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index


def arc_with_distractor():
    """A chain of unit vectors 10 degrees apart in the xy-plane, and a lone distractor 30
    degrees off the plane: nearer the chain's start than the chain's far end."""
    angles = np.radians([0, 10, 20, 30, 40])
    chain = np.stack([np.cos(angles), np.sin(angles), np.zeros(5)], axis=1)
    distractor = np.array([[np.cos(np.radians(30)), 0.0, np.sin(np.radians(30))]])
    return np.concatenate([chain, distractor]).astype(np.float32)  # rows 0..4 chain, 5 distractor


def test_graph_is_reciprocal_symmetric_and_weighted_by_gamma():
    vectors = arc_with_distractor()
    graph = knn_graph(vectors, k=2, gamma=3.0)
    a = graph.affinity.toarray()
    np.testing.assert_allclose(a, a.T)
    assert a[5].sum() == 0  # the distractor's nearest do not have it among theirs
    np.testing.assert_allclose(a[0, 1], np.cos(np.radians(10)) ** 3, rtol=1e-5)
    assert a[1, 2] > 0 and a[0, 2] == 0  # 0's two nearest are 1 and 2, but 2's are 1 and 3


def test_diffusion_ranks_a_manifold_neighbour_above_a_euclidean_one():
    vectors = arc_with_distractor()
    graph = knn_graph(vectors, k=2, gamma=3.0)
    query = vectors[0]
    cosines = vectors @ query
    assert cosines[5] > cosines[4]  # Euclidean: the distractor before the chain's end
    candidates = np.argsort(-cosines)
    ranked, scores = diffuse(graph, candidates, 1, cosines[candidates], alpha=0.99)
    order = list(ranked)
    assert order.index(4) < order.index(5)
    assert np.all(np.diff(scores) <= 1e-9)


def test_expander_diffusion_skips_the_query_row():
    vectors = arc_with_distractor()
    graph = knn_graph(vectors, k=2, gamma=3.0)
    expander = Expander(flat_index(vectors), vectors, graph)
    rows, scores = expander.rank(
        vectors[0], 5, ExpansionSettings("diffusion", seeds=1, truncate=6), skip=0
    )
    assert 0 not in rows and list(rows).index(4) < list(rows).index(5)
    assert np.all(np.diff(scores) <= 1e-9) and scores[0] <= 1.0


def test_conjugate_gradient_solves_the_linear_system():
    rng = np.random.default_rng(0)
    w = sp.random(30, 30, density=0.2, random_state=1)
    s = normalised((w + w.T).tocsr())
    y = rng.random(30)
    f = conjugate_gradient(s, y, 0.9, iterations=200, tol=1e-12)
    np.testing.assert_allclose((np.eye(30) - 0.9 * s.toarray()) @ f, y, atol=1e-6)


def test_graph_round_trips(tmp_path):
    graph = knn_graph(arc_with_distractor(), k=2, gamma=3.0, source="abc")
    graph.save(tmp_path)
    back = KnnGraph.load(tmp_path)
    assert (back.k, back.gamma, back.source) == (2, 3.0, "abc")
    np.testing.assert_array_equal(back.affinity.toarray(), graph.affinity.toarray())
