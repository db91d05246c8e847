import pytest

from eval.lists.fashion_iq_labels import label, labelled


@pytest.mark.parametrize(
    "caption, wanted",
    [
        ("is red and more shiny", ("color", "red", "require")),
        ("has no stripes", ("pattern", "striped", "avoid")),
        ("is gray", ("color", "grey", "require")),
        ("has stripes that go horizontal", ("pattern", "striped", "require")),
        ("Is more pink.", ("color", "pink", "require")),
    ],
)
def test_plain_colour_and_pattern_words_are_labelled(caption, wanted):
    assert label(caption) == wanted


@pytest.mark.parametrize(
    "caption",
    [
        "is blue and white",  # two values: which is the item's?
        "has red flowers",  # a detail's colour
        "is light blue",  # a modified colour
        "is blue not red",  # a negation not next to the word it negates
        "is navy",  # a synonym, not a plain word
        "is darker than the red one",  # a comparison
        "has a white collar",
    ],
)
def test_ambiguous_captions_are_left_out(caption):
    assert label(caption) is None


def test_two_hundred_distinct_captions_in_a_fixed_order():
    pairs = labelled()
    if not pairs:
        pytest.skip("../shared/data/fashion-iq is absent")
    assert len(pairs) == 200 and len({t.lower() for t, _ in pairs}) == 200
    assert labelled() == pairs
    assert {w[0] for _, w in pairs} == {"color", "pattern"}
