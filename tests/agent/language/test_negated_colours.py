"""Negated colours (issue 27, item 6): "not black", "anything but red", "no white please" and
their kin avoid the colour (and never require it), on a catalogue in the fashion-products
layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from catalogue_fixtures import write_styles_shop

from agent.rewriters import RuleRewriter
from retrieval.catalogues import FolderCatalogue

# (message, the colour it avoids, what else it requires)
NEGATED = [
    ("not black", "Black", set()),
    ("anything but blue", "Blue", set()),
    ("no white please", "White", set()),
    ("shirts, not black", "Black", {"Shirts"}),
    ("a tshirt but not in black", "Black", {"Tshirts"}),
    ("anything except brown", "Brown", set()),
    ("nothing white", "White", set()),
    ("I don't want grey", "Grey", set()),
    ("watches that aren't black", "Black", {"Watches"}),
    ("no more white ones", "White", set()),
    ("other than navy blue", "Navy Blue", set()),
    ("without any maroon", "Maroon", set()),
    ("I'm not a fan of brown", "Brown", set()),
    ("skip the grey ones", "Grey", set()),
    ("black is not for me", "Black", set()),
    ("white? no thanks", "White", set()),
    ("shirts in any colour except black", "Black", {"Shirts"}),
    ("get rid of the blue", "Blue", set()),
]


SHARED = Path(__file__).resolve().parents[4] / "shared" / "data" / "fashion-products"
# the same on fashion-products, whose colours include red (read with the text encoder too)
FASHION_PRODUCTS = [*NEGATED, ("anything but red", "Red", set()), ("no red please", "Red", set())]


@pytest.fixture(scope="module")
def rewriter(tmp_path_factory):
    folder = write_styles_shop(tmp_path_factory.mktemp("styles"))
    return RuleRewriter(None, FolderCatalogue(folder, folder / "styles.csv").schema)


@pytest.mark.parametrize(("text", "colour", "required"), NEGATED)
def test_a_negated_colour_is_avoided(rewriter, text, colour, required):
    constraints = rewriter.rewrite(text).constraints
    avoided = {c.value for c in constraints if c.polarity == "avoid"}
    wanted = {c.value for c in constraints if c.polarity == "require"}
    assert colour in avoided and colour not in wanted, constraints
    assert required <= wanted


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/data/fashion-products is absent")
def test_negated_colours_are_avoided_on_fashion_products(trained_encoder):
    rewriter = RuleRewriter(trained_encoder, FolderCatalogue(SHARED, SHARED / "styles.csv").schema)
    misses = []
    for text, colour, required in FASHION_PRODUCTS:
        constraints = rewriter.rewrite(text).constraints
        avoided = {c.value for c in constraints if c.polarity == "avoid"}
        wanted = {c.value for c in constraints if c.polarity == "require"}
        if colour not in avoided or colour in wanted or not required <= wanted:
            misses.append((text, [(c.value, c.polarity) for c in constraints]))
    assert misses == []
