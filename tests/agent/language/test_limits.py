"""Honest limits (issue 27, item 4): requests about what a catalogue has no attribute for
(prices, sizes, stock, delivery, returns, brands, ratings) are named as such and never
searched as quoted text; the written list of such requests, on the fashion-products schema
(when ../shared/data is here) and on a fixture with its columns (always)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from catalogue_fixtures import write_priced_shop, write_styles_shop

from agent.language.limits import _data as limits_data
from agent.language.limits import held_by_texts
from agent.rewriters import RuleRewriter
from retrieval.catalogues import FolderCatalogue
from retrieval.index.text_index import TextIndex

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data" / "fashion-products"
LIMIT_REQUESTS = json.loads(
    (Path(__file__).parent / "data" / "limit_requests.json").read_text(encoding="utf-8")
)["requests"]
MIN_ACCURACY = 0.9


def limit_accuracy(rewriter, texts: TextIndex | None = None) -> tuple[float, list]:
    """Share of the written requests whose reading names their topic as a limit and searches
    none of the topic's words; with the shop's `texts`, less the limits whose words its titles
    hold (which the agent searches as text instead: agent.reading.searched_as_text)."""
    topics = limits_data()["topics"]
    misses = []
    for request in LIMIT_REQUESTS:
        rewrite = rewriter.rewrite(request["text"])
        searched = set(rewrite.caption.lower().replace(",", " ").split())
        quoted = searched & set(topics[request["topic"]]["phrases"])
        held = held_by_texts(request["text"], rewrite.limits, texts.known) if texts else {}
        if request["topic"] not in rewrite.limits or request["topic"] in held or quoted:
            misses.append((request["text"], rewrite.limits, rewrite.caption))
    return 1 - len(misses) / len(LIMIT_REQUESTS), misses


@pytest.fixture(scope="module")
def styles_shop(tmp_path_factory):
    folder = write_styles_shop(tmp_path_factory.mktemp("styles"))
    return FolderCatalogue(folder, folder / "styles.csv")


def test_the_written_limit_requests_get_the_honest_limit_on_the_fixture(styles_shop):
    assert len(LIMIT_REQUESTS) >= 30
    score, misses = limit_accuracy(RuleRewriter(None, styles_shop.schema))
    print(f"limit requests on the fixture: {score:.3f} ({len(LIMIT_REQUESTS)} requests)")
    assert score >= MIN_ACCURACY, f"accuracy {score:.3f}; misses: {misses}"


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/data/fashion-products is absent")
def test_the_written_limit_requests_get_the_honest_limit_on_fashion_products(trained_encoder):
    catalogue = FolderCatalogue(SHARED, SHARED / "styles.csv")
    texts = TextIndex.from_items(catalogue.items)  # "XL" is in a title: searched as text
    score, misses = limit_accuracy(RuleRewriter(trained_encoder, catalogue.schema), texts)
    print(f"limit requests on fashion-products: {score:.3f} ({len(LIMIT_REQUESTS)} requests)")
    assert score >= MIN_ACCURACY, f"accuracy {score:.3f}; misses: {misses}"


def test_what_the_catalogue_has_is_no_limit(tmp_path):
    folder = write_priced_shop(tmp_path)
    rewriter = RuleRewriter(None, FolderCatalogue(folder, folder / "styles.csv").schema)
    assert rewriter.rewrite("shirts under 40").limits == []
    assert rewriter.rewrite("size 32 please").limits == []
    assert rewriter.rewrite("is this in stock?").limits == ["stock"]


def test_a_request_with_a_limit_keeps_what_it_can_read(styles_shop):
    rewrite = RuleRewriter(None, styles_shop.schema).rewrite("affordable casual shoes for women")
    assert rewrite.limits == ["price"]
    assert {(c.attribute, c.value) for c in rewrite.constraints} == {
        ("articleType", "Casual Shoes"),
        ("gender", "Women"),
    }
    assert "affordable" not in rewrite.caption
    question = RuleRewriter(None, styles_shop.schema).rewrite("can you deliver it by friday?")
    assert question.limits == ["delivery"] and question.caption == ""
