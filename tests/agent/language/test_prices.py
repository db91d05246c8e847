"""Prices in the conversation (issue 25, item 3): the held-out price requests read right on a
catalogue with a price column; a number is a size only where the shopper says size."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from catalogue_fixtures import write_priced_shop

from agent.language.prices import bounds_from_words, price_attribute, range_words, read_prices
from agent.rewriters import RuleRewriter
from retrieval.catalogues import FolderCatalogue
from retrieval.catalogues.schema import AttributeSpec, CatalogueSchema

PRICE_REQUESTS = json.loads(
    (Path(__file__).parent / "data" / "price_requests.json").read_text(encoding="utf-8")
)["requests"]
MIN_ACCURACY = 0.9
FIELDS = ("low", "high", "relative", "order")


@pytest.fixture(scope="module")
def priced_shop(tmp_path_factory):
    folder = write_priced_shop(tmp_path_factory.mktemp("priced"))
    return FolderCatalogue(folder, folder / "styles.csv")


def wanted(request: dict) -> dict:
    return {k: request[k] for k in FIELDS if k in request}


def price_reading(constraints) -> dict:
    read = {}
    for c in constraints:
        read |= {k: getattr(c, k) for k in FIELDS if getattr(c, k) is not None}
    return read


def test_the_held_out_price_requests_read_right_on_a_priced_catalogue(priced_shop):
    assert len(PRICE_REQUESTS) >= 30
    rewriter = RuleRewriter(None, priced_shop.schema)
    misses = []
    for request in PRICE_REQUESTS:
        rewrite = rewriter.rewrite(request["text"])
        priced = [c for c in rewrite.constraints if c.numeric]
        assert all(c.attribute == "price" for c in priced)
        if price_reading(priced) != wanted(request):
            misses.append((request["text"], price_reading(priced)))
        assert not rewrite.limits, request["text"]  # the catalogue has prices
    score = 1 - len(misses) / len(PRICE_REQUESTS)
    print(f"held-out price requests: {score:.3f} ({len(PRICE_REQUESTS)} requests)")
    assert score >= MIN_ACCURACY, f"accuracy {score:.3f}; misses: {misses}"


def test_a_number_is_a_size_only_where_the_shopper_says_size(priced_shop):
    rewriter = RuleRewriter(None, priced_shop.schema)

    def sizes(text):
        return [c.value for c in rewriter.rewrite(text).constraints if c.attribute == "size"]

    hoodie = rewriter.rewrite("a cheap hoodie under 30")
    assert [(c.attribute, c.high) for c in hoodie.constraints if c.numeric] == [("price", 30.0)]
    assert sizes("a cheap hoodie under 30") == []
    assert sizes("a shirt, 30") == [] and sizes("3 socks and 30 ties") == []
    assert sizes("size 30") == ["30"] and sizes("jeans in a 32") == ["32"]
    assert sizes("in M please") == ["M"]


def test_price_words_leave_the_caption_and_the_rest_is_read():
    rewriter = RuleRewriter(None, _schema_with({"price": _numeric()}))
    rewrite = rewriter.rewrite("a black tshirt under 25 dollars, cheapest first")
    assert "25" not in rewrite.caption and "cheapest" not in rewrite.caption
    assert {(c.value, c.high, c.order) for c in rewrite.constraints if c.numeric} == {
        ("under 25", 25.0, None),
        ("cheapest first", None, "ascending"),
    }


def test_an_explicit_bound_overrides_a_relative_one():
    readings, rest = read_prices("a cheap hoodie between 20 and 40 euros")
    assert [(r.low, r.high, r.relative) for r in readings] == [(20.0, 40.0, None)]
    assert rest == "a hoodie"


def test_an_amount_with_its_currency_or_around_is_a_range_about_it():
    for text in ("a shirt for $30", "around 30", "jeans for 30 euros please"):
        (reading,), _ = read_prices(text)
        assert (reading.low, reading.high) == (24.0, 36.0), text
    assert read_prices("numbers 1-40 on the front")[0] == []  # no currency, no price word


def test_thousands_and_decimal_commas():
    assert read_prices("under 1,299.50")[0][0].high == 1299.5
    assert read_prices("over 2,000 dollars")[0][0].low == 2000.0
    assert read_prices("unter 29,90 euro, max 29,90")[0][-1].high == 29.9


def test_range_words_read_back():
    for low, high in ((None, 30.0), (100.0, None), (20.0, 40.5)):
        assert bounds_from_words(range_words(low, high)) == (low, high)
    assert range_words(None, 99.99) == "under 99.99" and bounds_from_words("red") is None


def _numeric(**kwargs) -> AttributeSpec:
    return AttributeSpec(kind="numeric", range=(1.0, 100.0), **kwargs)


def _schema_with(attributes: dict) -> CatalogueSchema:
    colours = AttributeSpec(values=["Black", "Red"], role="color")
    kinds = AttributeSpec(values=["Tshirts", "Shirts"], role="garment")
    return CatalogueSchema(
        attributes={"baseColour": colours, "articleType": kinds, **attributes},
        kind="articleType",
    )


def test_the_price_attribute_is_found_by_role_or_by_a_price_name():
    assert price_attribute(_schema_with({"Variant Price": _numeric()})) == "Variant Price"
    both = {"compare_at_price": _numeric(), "sale_price": _numeric()}
    assert price_attribute(_schema_with(both)) == "sale_price"
    assert price_attribute(_schema_with({"amount": _numeric(role="price")})) == "amount"
    assert price_attribute(_schema_with({"year": _numeric()})) is None


def test_the_hybrid_and_llm_rewriters_carry_the_price_the_rules_read(tmp_path):
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from agent.rewriters import HybridRewriter, LLMRewriter

    schema = _schema_with({"price": _numeric()})
    answer = json.dumps(
        {"constraints": [{"value": "Shirts", "attribute": "articleType", "polarity": "require"}]}
    )
    rules = RuleRewriter(None, schema)
    chat = FakeListChatModel(responses=[answer, answer])
    llm = LLMRewriter(chat, rules, "scripted", timeout_s=5, cache_dir=tmp_path / "c", caption=False)
    hybrid = HybridRewriter(rules, llm)
    said = "a woven thing in black under 40, cheapest first"
    for rewriter in (hybrid, llm):
        rewrite = rewriter.rewrite(said)
        priced = {(c.attribute, c.high, c.order) for c in rewrite.constraints if c.numeric}
        assert priced == {("price", 40.0, None), ("price", None, "ascending")}, rewriter.name
        assert "40" not in rewrite.caption and "cheapest" not in rewrite.caption
        assert rewrite.sources["price=under 40"] == "rules"
    assert ("articleType", "Shirts") in {
        (c.attribute, c.value) for c in llm.rewrite(said).constraints
    }
