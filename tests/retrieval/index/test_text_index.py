"""The lexical index over the shop's titles, and its fusion with the vector ranking."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.catalogues import CatalogueRef
from retrieval.catalogues.base import Item
from retrieval.index import SearchIndex, faiss_tools
from retrieval.index.store import Manifest
from retrieval.index.text_index import (
    TextIndex,
    fused_search,
    reciprocal_rank_fusion,
    words_of,
)

TITLES = [
    "Nike Men Air Running Shoes",
    "Puma Men Running Shoes",
    "Adidas Women Running Shoes",
    "Nike Women Printed T-shirt",
    "Roadster Men Checked Shirt",
    "Casio Chronograph Watch",
    "",  # an item without a title
    "Nike Nike Nike Socks",
]


def _index(titles: list[str], vectors: np.ndarray) -> SearchIndex:
    items = [
        Item(f"i{n}", {"kind": t.split()[-1] if t else "?"}, title=t) for n, t in enumerate(titles)
    ]
    manifest = Manifest(
        model_id="synthetic",
        model_fingerprint="x",
        dim=vectors.shape[1],
        factory="Flat",
        catalogue=CatalogueRef(source="synthetic"),
        catalogue_fingerprint="x",
        count=len(items),
    )
    return SearchIndex(faiss_tools.index_vectors(vectors, "Flat"), items, vectors, manifest)


def test_search_finds_the_words_best_bm25_first_and_respects_the_mask():
    text = TextIndex(TITLES)
    assert text.documents == 7 and text.size == 8
    nike = [m.position for m in text.search(["nike"])]
    assert sorted(nike) == [0, 3, 7]
    assert nike[0] == 7  # three mentions in a short title
    both = [m.position for m in text.search(["nike", "running"])]
    assert both[0] == 0  # holds both words
    assert set(both) == {0, 1, 2, 3, 7}
    allowed = np.array([True] * 7 + [False])
    assert 7 not in [m.position for m in text.search(["nike"], allowed=allowed)]


def test_words_are_stemmed_accent_free_and_never_query_syntax():
    text = TextIndex(["Checked Shirt", "Café Sweater", "Shirt AND Tie"])
    assert [m.position for m in text.search(["checks"])] == [0]  # porter: checks ~ checked
    assert [m.position for m in text.search(["cafe"])] == [1]
    assert [m.position for m in text.search(['"OR', "NEAR(", "*"])] == []  # quoted, not syntax
    assert text.known(["shirt", "Tie", "velvet", "shirt"]) == ["shirt", "tie"]


def test_no_text_no_index():
    assert TextIndex.from_items([Item("a"), Item("b")]) is None
    assert TextIndex.from_items([Item("a", title="Red Dress")]).documents == 1


def test_words_of_keeps_hyphens_and_apostrophes():
    assert words_of("A V-neck tee, Levi's!") == ["a", "v-neck", "tee", "levi's"]


def test_reciprocal_rank_fusion_rewards_agreement():
    assert reciprocal_rank_fusion([[1, 2, 3], [3, 4]]) == [3, 1, 2, 4]
    assert reciprocal_rank_fusion([[1, 2], [2, 1]]) == [1, 2]  # a tie keeps the first order
    assert reciprocal_rank_fusion([[1, 2], [2]], weights=[1.0, 0.0]) == [1, 2]


@pytest.fixture
def shoes_index():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((len(TITLES), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return _index(TITLES, vectors), vectors


def test_fused_search_lifts_the_text_matches_and_keeps_vector_scores(shoes_index):
    index, vectors = shoes_index
    query = vectors[5]  # the watch is the vector ranking's first
    plain = [h.position for h in index.search(query, 3)[0]]
    assert plain[0] == 5
    hits = fused_search(index, TextIndex(TITLES), query, ["nike"], k=3, depth=8)
    positions = [h.position for h in hits]
    assert set(positions) <= {0, 3, 5, 7} and len(positions) == 3
    assert sum(p in (0, 3, 7) for p in positions) >= 2  # the text matches come up
    for hit in hits:
        assert hit.score == pytest.approx(float(vectors[hit.position] @ query), abs=1e-5)


def test_fused_search_keeps_exclusions_and_masks(shoes_index):
    index, vectors = shoes_index
    allowed = np.ones(len(TITLES), bool)
    allowed[0] = False
    hits = fused_search(
        index, TextIndex(TITLES), vectors[0], ["nike"], k=4, exclude=["i7"], allowed=allowed
    )
    positions = [h.position for h in hits]
    assert 0 not in positions and 7 not in positions
    assert positions[0] == 3  # the one Nike item left


def test_fused_search_without_a_matching_word_is_the_vector_search(shoes_index):
    index, vectors = shoes_index
    hits = fused_search(index, TextIndex(TITLES), vectors[2], ["velvet"], k=3)
    assert [h.position for h in hits] == [h.position for h in index.search(vectors[2], 3)[0]]


def test_a_text_ranking_of_twice_the_weight_puts_its_matches_before_vector_only_items():
    vectors_only, text_only = [1, 2, 3], [7, 8, 9]  # no item in both rankings
    assert reciprocal_rank_fusion([vectors_only, text_only]) == [1, 7, 2, 8, 3, 9]
    assert reciprocal_rank_fusion([vectors_only, text_only], [1.0, 2.0]) == [7, 8, 9, 1, 2, 3]


def test_an_items_description_and_tags_are_searched_beside_its_title():
    items = [
        Item("a", title="Summer Shirt", tags="linen, v-neck"),
        Item("b", title="Summer Shirt", description="Made of washed linen."),
        Item("c", title="Summer Shirt"),
        Item("d"),
    ]
    text = TextIndex.from_items(items)
    assert sorted(m.position for m in text.search(["linen"])) == [0, 1]
    assert [m.position for m in text.search(["v-neck"])] == [0]
    assert TextIndex.from_items([Item("x", tags="linen")]).search(["linen"])[0].position == 0
