import json

import pytest

from agent.rewriters import RuleRewriter
from agent.rewriters.base import MAX_MESSAGE_CHARS, clean_message
from eval.lists.heldout_phrasings import HELD_OUT_BLIND
from retrieval.catalogues.schema import CatalogueSchema

# Development phrasings: written alongside the lexicon (retrieval/attributes.py), so they
# measure coverage, not generalisation. The held-out set is eval/lists/heldout_phrasings.py.
DEVELOPMENT = [
    ("hmm, more like the colour of the ocean", ("color", "blue", "require")),
    ("something the shade of fresh grass", ("color", "green", "require")),
    ("can I get it in navy?", ("color", "blue", "require")),
    ("crimson would be perfect", ("color", "red", "require")),
    ("I'd love a scarlet version", ("color", "red", "require")),
    ("make it look like a ripe banana", ("color", "yellow", "require")),
    ("as dark as the night sky", ("color", "black", "require")),
    ("white as snow please", ("color", "white", "require")),
    ("more of a chocolate tone", ("color", "brown", "require")),
    ("coffee coloured", ("color", "brown", "require")),
    ("a sandy neutral tone", ("color", "beige", "require")),
    ("like a flamingo", ("color", "pink", "require")),
    ("lavender would suit me", ("color", "purple", "require")),
    ("in a plum shade", ("color", "purple", "require")),
    ("pumpkin coloured", ("color", "orange", "require")),
    ("the colour of a carrot", ("color", "orange", "require")),
    ("charcoal", ("color", "grey", "require")),
    ("a silvery one", ("color", "grey", "require")),
    ("emerald green!", ("color", "green", "require")),
    ("sky blue maybe", ("color", "blue", "require")),
    ("with polka dots", ("pattern", "dotted", "require")),
    ("gingham would be cute", ("pattern", "checked", "require")),
    ("a plaid one", ("pattern", "checked", "require")),
    ("tartan please", ("pattern", "checked", "require")),
    ("pinstripes", ("pattern", "striped", "require")),
    ("with some horizontal lines across it", ("pattern", "striped", "require")),
    ("spotty", ("pattern", "dotted", "require")),
    ("no print, just one colour", ("pattern", "plain", "require")),
    ("lose the stripes", ("pattern", "striped", "avoid")),
    ("without the checks", ("pattern", "checked", "avoid")),
    ("I don't want red", ("color", "red", "avoid")),
    ("anything but black", ("color", "black", "avoid")),
    ("no more dots", ("pattern", "dotted", "avoid")),
    ("sneakers instead", ("category", "sneaker", "require")),
    ("more like a gown", ("category", "dress", "require")),
    ("a jumper in the same style", ("category", "pullover", "require")),
    ("show me jeans", ("category", "trousers", "require")),
    ("a purse like this", ("category", "bag", "require")),
    ("what about a parka", ("category", "coat", "require")),
    ("flip flops for the beach", ("category", "sandal", "require")),
    ("a hoodie", ("category", "pullover", "require")),
    ("running shoes", ("category", "sneaker", "require")),
    ("booties", ("category", "ankle boot", "require")),
    ("a tote", ("category", "bag", "require")),
    ("keep the stripes", ("pattern", "striped", "require")),
]


@pytest.fixture(scope="module")
def rewriter(trained_encoder):
    return RuleRewriter(trained_encoder)


def mapping_accuracy(rewriter, phrasings) -> tuple[float, list]:
    misses = []
    for text, wanted in phrasings:
        found = {(c.attribute, c.value, c.polarity) for c in rewriter.rewrite(text).constraints}
        if wanted not in found:
            misses.append((text, wanted, found))
    return 1 - len(misses) / len(phrasings), misses


def test_development_phrasings_map_to_the_intended_change(rewriter):
    accuracy, misses = mapping_accuracy(rewriter, DEVELOPMENT)
    assert accuracy >= 0.95, f"accuracy {accuracy:.2f}; misses: {misses}"


def test_blind_held_out_phrasings_map_to_the_intended_change(rewriter):
    accuracy, misses = mapping_accuracy(rewriter, HELD_OUT_BLIND)
    assert len(HELD_OUT_BLIND) >= 40
    assert accuracy >= 0.9, f"accuracy {accuracy:.2f}; misses: {misses}"


@pytest.mark.parametrize(
    "text, caption, constraints",
    [
        (
            "same but in navy, with stripes",
            "blue, striped",
            [("color", "blue", "require"), ("pattern", "striped", "require")],
        ),
        ("not red", "", [("color", "red", "avoid")]),
        ("make it red with longer sleeves", "red, longer sleeves", [("color", "red", "require")]),
        ("only dresses", "dress", [("category", "dress", "require")]),
    ],
)
def test_captions_are_concise_and_keep_unmapped_words(rewriter, text, caption, constraints):
    rewrite = rewriter.rewrite(text)
    assert rewrite.caption == caption
    assert [(c.attribute, c.value, c.polarity) for c in rewrite.constraints] == constraints


def test_negative_feedback_is_detected(rewriter):
    assert rewriter.rewrite("none of these").negative_feedback
    assert rewriter.rewrite("not this one, more blue").negative_feedback
    assert not rewriter.rewrite("a blue one").negative_feedback


def test_catalogue_without_attributes_passes_the_turns_cleaned_text_through():
    from agent.turn import Turn

    message = Turn(text="  a  red\tleather\n sofa ").cleaned().text
    rewrite = RuleRewriter(None, CatalogueSchema()).rewrite(message)
    assert rewrite.caption == "a red leather sofa" and rewrite.constraints == []


def test_clean_message_bounds_length_and_strips_control_characters():
    text, note = clean_message("word " * 3000)
    assert len(text) <= MAX_MESSAGE_CHARS and "shortened" in note
    assert clean_message("a\x00b\u200bc")[0] in ("a b c", "a bc", "a b\u200bc")


def test_cli_rewrite_json(capsys, trained_encoder):
    from ui.cli import main

    assert main(["rewrite", "same but in navy, with stripes", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "caption": "blue, striped",
        "constraints": [
            {"attribute": "color", "value": "blue", "polarity": "require"},
            {"attribute": "pattern", "value": "striped", "polarity": "require"},
        ],
        "new_search": False,
        "fallback_reason": None,
    }
