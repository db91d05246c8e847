"""Shoppers' words on a catalogue whose roles were read from its values (an H&M-style
articles table): gender and department words, misspelt, slang and implied; values that are
also words of the conversation ('Other', 'Casual') never shadow them."""

from __future__ import annotations

import pytest
from articles_fixture import ARTICLES_COLUMNS, article_rows, renamed

from agent.language.intent import read_intent
from agent.language.parser import AttributeParser
from retrieval.catalogues.schema import infer_schema

R, A = "require", "avoid"
TYPE, LOOK, COLOUR, DEPT = (
    "product_type_name",
    "graphical_appearance_name",
    "perceived_colour_master_name",
    "index_group_name",
)
REQUESTS = [
    (
        "a denim jacket for women",
        {(LOOK, "Denim", R), (TYPE, "Jacket", R), (DEPT, "Ladieswear", R)},
    ),
    ("striped t-shirt for men", {(LOOK, "Stripe", R), (TYPE, "T-shirt", R), (DEPT, "Menswear", R)}),
    ("something for my dad's birthday", {(DEPT, "Menswear", R)}),
    ("a sweater for my husband", {(TYPE, "Sweater", R), (DEPT, "Menswear", R)}),
    ("a hoodie for my girlfriend", {(TYPE, "Hoodie", R), (DEPT, "Ladieswear", R)}),
    ("dresses for my daughter", {(TYPE, "Dress", R), (DEPT, "Baby/Children", R)}),
    ("kids t-shirts", {(DEPT, "Baby/Children", R), (TYPE, "T-shirt", R)}),
    ("womans jumper", {(DEPT, "Ladieswear", R), (TYPE, "Sweater", R)}),
    ("mens shirts", {(DEPT, "Menswear", R), (TYPE, "Shirt", R)}),
    ("ladies blouses", {(DEPT, "Ladieswear", R), (TYPE, "Blouse", R)}),
    ("gents sweaters", {(DEPT, "Menswear", R), (TYPE, "Sweater", R)}),
    ("dark blue trousers", {(COLOUR, "Blue", R), (TYPE, "Trousers", R)}),
    ("a plain skirt, not black", {(LOOK, "Solid", R), (TYPE, "Skirt", R), (COLOUR, "Black", A)}),
    ("polka dot dress", {(LOOK, "Dot", R), (TYPE, "Dress", R)}),
    ("show me this in other colours", set()),
    ("what other colors does it come in", set()),
]


def read(parser: AttributeParser, text: str, names: dict[str, str] | None = None) -> set:
    back = {v: k for k, v in (names or {}).items()}
    return {(back.get(m.attribute, m.attribute), m.value, m.polarity) for m in parser.parse(text)}


@pytest.fixture(scope="module")
def parser():
    return AttributeParser(None, infer_schema(ARTICLES_COLUMNS, article_rows()))


@pytest.mark.parametrize("text, wanted", REQUESTS)
def test_department_and_pattern_words_on_an_articles_table(parser, text, wanted):
    assert read(parser, text) == wanted


def test_the_same_under_opaque_column_names():
    columns, rows = renamed(article_rows())
    parser = AttributeParser(None, infer_schema(columns, rows))
    names = dict(zip(ARTICLES_COLUMNS, columns))
    misses = [t for t, wanted in REQUESTS if read(parser, t, names) != wanted]
    assert misses == []


def test_a_gender_word_never_means_a_value_that_only_contains_it(parser):
    table = parser.phrases.table
    assert table[("men",)] == (DEPT, "Menswear")  # not 'Mens Shirts' or 'Men Shoes'
    assert table[("women",)] == (DEPT, "Ladieswear")
    assert ("other",) not in table  # the placeholder colour 'Other' is no word of its own


def test_other_colours_is_read_as_the_action():
    intent = read_intent("show me this in other colours")
    assert intent.other_colours and intent.other_colours_words == frozenset({4, 5})
    assert not read_intent("show me this in red").other_colours


def test_a_usage_value_inside_a_kind_value_does_not_shadow_it():
    columns = ["id", "articleType", "usage"]
    kinds = ["Casual Shoes", "Formal Shoes", "Shirts", "Tshirts"]
    usages = ["Casual", "Formal", "Sports"]
    rows = [{"id": str(i), "articleType": kinds[i % 4], "usage": usages[i % 3]} for i in range(48)]
    parser = AttributeParser(None, infer_schema(columns, rows))
    assert read(parser, "casual shoes") == {("articleType", "Casual Shoes", R)}
    assert read(parser, "something casual") == {("usage", "Casual", R)}
    assert read(parser, "casual shirts") == {("usage", "Casual", R), ("articleType", "Shirts", R)}
