"""The default rewriter on a catalogue's own vocabulary (the styles-layout fixture)."""

import pytest
from catalogue_fixtures import write_styles_shop

from agent.language.intent import read_intent
from agent.language.phrases import surface_forms
from agent.rewriters import RuleRewriter
from retrieval.catalogues import FolderCatalogue
from retrieval.catalogues.schema import fmnist_schema
from retrieval.catalogues.vocabulary import resolve


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    folder = write_styles_shop(tmp_path_factory.mktemp("styles"))
    return FolderCatalogue(folder, folder / "styles.csv")


@pytest.fixture(scope="module")
def rules(shop):
    return RuleRewriter(None, shop.schema)  # lexicon and rules only: no encoder


def said(rewriter, text):
    return [(c.attribute, c.value, c.polarity) for c in rewriter.rewrite(text).constraints]


def test_surface_forms_cover_plural_hyphen_and_spacing_variants():
    assert ("tshirt",) in surface_forms("Tshirts") and ("flip", "flop") in surface_forms(
        "Flip Flops"
    )
    assert ("flipflops",) in surface_forms("Flip Flops")
    assert ("t", "shirt") in surface_forms("T-Shirt") and ("tshirt",) in surface_forms("T-Shirt")
    assert ("short",) not in surface_forms("Shorts")  # plural-only: "a short dress" is no shorts


@pytest.mark.parametrize(
    "text, constraints",
    [
        (
            "navy blue shirts",
            [("baseColour", "Navy Blue", "require"), ("articleType", "Shirts", "require")],
        ),
        ("a t-shirt", [("articleType", "Tshirts", "require")]),
        ("tshirt", [("articleType", "Tshirts", "require")]),
        ("tees", [("articleType", "Tshirts", "require")]),
        ("flip-flops", [("articleType", "Flip Flops", "require")]),
        ("flipflops", [("articleType", "Flip Flops", "require")]),
        ("casual shoe", [("articleType", "Casual Shoes", "require")]),
        ("handbgas", [("articleType", "Handbags", "require")]),  # a misspelling
        ("for my husband", [("gender", "Men", "require")]),
        ("ladies", [("gender", "Women", "require")]),
        ("for the office", [("usage", "Formal", "require")]),
        ("gym", [("usage", "Sports", "require")]),
        ("navy", [("baseColour", "Navy Blue", "require")]),  # the lexicon word meets the value
        ("not black", [("baseColour", "Black", "avoid")]),
        ("anything but watches", [("articleType", "Watches", "avoid")]),
        ("no kurtas please", [("articleType", "Kurtas", "avoid")]),
        ("keep it maroon", [("baseColour", "Maroon", "require")]),
    ],
)
def test_messages_map_onto_the_catalogues_own_values(rules, text, constraints):
    assert said(rules, text) == constraints


def test_the_narrowest_nested_attribute_wins(rules):
    assert said(rules, "casual shoes, footwear") == [("articleType", "Casual Shoes", "require")]
    assert said(rules, "watches") == [("articleType", "Watches", "require")]  # not subCategory
    assert said(rules, "footwear for men") == [
        ("masterCategory", "Footwear", "require"),
        ("gender", "Men", "require"),
    ]
    assert said(rules, "shoes") == [("subCategory", "Shoes", "require")]


def test_a_lexicon_word_maps_onto_the_nearest_value_the_catalogue_has(shop):
    assert resolve(shop.schema, "color", "navy blue") == ("baseColour", "Navy Blue")
    assert resolve(fmnist_schema(), "color", "navy blue") == ("color", "blue")
    assert resolve(fmnist_schema(), "color", "teal") == ("color", "blue")
    assert resolve(shop.schema, "garment", "sneaker") == ("articleType", "Casual Shoes")
    assert resolve(shop.schema, "pattern", "striped") is None  # no pattern attribute here


@pytest.mark.parametrize(
    "text, new_request, reset",
    [
        ("now show me something for the beach", True, False),
        ("i'm looking for a dress", True, False),
        ("start over", True, True),
        ("forget that, show me watches", True, True),
        ("in blue", False, False),
        ("show me this in blue", False, False),
        ("do you have it in navy?", False, False),
        ("same but black", False, False),
    ],
)
def test_a_new_search_is_told_from_a_refinement(text, new_request, reset):
    intent = read_intent(text)
    assert (intent.new_request, intent.reset) == (new_request, reset)


def test_rewrite_says_new_search(rules):
    assert rules.rewrite("now show me flip flops").new_search
    assert not rules.rewrite("in black").new_search
    assert rules.rewrite("start over").caption == ""  # the reset words are not searched


def test_with_the_encoder_unknown_words_are_compared_with_the_values(shop, rules, trained_encoder):
    rewriter = RuleRewriter(trained_encoder, shop.schema)
    assert said(rules, "menfolk") == []  # no lexicon entry
    assert said(rewriter, "menfolk") == [("gender", "Men", "require")]


def test_a_word_the_shops_own_texts_hold_is_searched_not_read_as_a_value(shop, trained_encoder):
    """Outside the lexicon, "menfolk" is read as Men by its likeness; but where the shop's
    titles hold it (a brand, a product line), it stays a word of the caption, searched as
    text, and no filter is made of it."""
    from retrieval.index.text_index import TextIndex

    titles = TextIndex([*(item.title for item in shop.items), "Menfolk Linen Shirt"])
    rewriter = RuleRewriter(trained_encoder, shop.schema, titles.known)
    read = rewriter.rewrite("menfolk")
    assert read.constraints == [] and read.caption == "menfolk"
    assert said(rewriter, "menfolk shirts") == [("articleType", "Shirts", "require")]
    unheld = TextIndex([item.title for item in shop.items])
    assert said(RuleRewriter(trained_encoder, shop.schema, unheld.known), "menfolk") == [
        ("gender", "Men", "require")
    ]
