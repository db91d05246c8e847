"""The app's price filter (issue 25, item 3) through the handlers, on a shop with prices: its
ranges come with counts, a chosen range filters and says so, a range said in words shows in
the filter, 'any' lets it go, undo restores."""

from __future__ import annotations

import pytest
from catalogue_fixtures import write_priced_shop

from agent.agent import Agent
from retrieval.catalogues import FolderCatalogue
from retrieval.indexing.gallery import Gallery
from retrieval.indexing.local import build_index
from ui import handlers
from ui.handlers import AppContext
from ui.view import ANY


@pytest.fixture(scope="module")
def priced_app(tmp_path_factory, tiny_encoder):
    folder = write_priced_shop(tmp_path_factory.mktemp("priced"))
    catalogue = FolderCatalogue(folder, folder / "styles.csv")
    index = build_index(catalogue, tiny_encoder, progress=False)
    return Agent(Gallery.in_memory(tiny_encoder, index, catalogue=catalogue), "sum"), catalogue


def price_filter(update) -> tuple[list, str]:
    return update.filters[-1]


def test_the_price_filter_filters_and_follows_the_words(priced_app):
    ctx = AppContext(priced_app[0])
    assert ctx.filters[-1] == "price"
    first = handlers.send(ctx, ctx.new_session(), "tshirts", None, "sum")
    choices, value = price_filter(first)
    assert value == ANY and len(choices) == 4
    band = choices[1][1]  # the cheapest range offered, e.g. 'under 39'
    keep = [value for _, value in first.filters[:-1]]
    cheap = handlers.refilter(ctx, first.session, [*keep, band], "sum")
    high = float(band.split()[-1])
    shown = cheap.session.dialogue.last_results
    assert shown and all(float(r.attributes["price"]) <= high for r in shown)
    assert all(r.attributes["articleType"] == "Tshirts" for r in shown)
    assert price_filter(cheap)[1] == band and f"Price: {band}" in cheap.chat[-2]["content"]
    said = handlers.send(ctx, cheap.session, "over 50 please", None, "sum")
    assert price_filter(said)[1] == "over 50"
    assert "over 50" in said.chat[-1]["content"]
    assert all(float(r.attributes["price"]) >= 50 for r in said.session.dialogue.last_results)
    anything = handlers.refilter(ctx, said.session, [*keep, ANY], "sum")
    assert not [c for c in anything.session.dialogue.constraints if c.attribute == "price"]
    assert handlers.undo(ctx, anything.session).session.dialogue == said.session.dialogue


def test_the_app_builds_a_price_filter_with_its_ranges(priced_app):
    from ui.app import build_app

    demo = build_app(priced_app[0])
    dropdowns = {
        c["props"].get("elem_id"): c["props"]
        for c in demo.config["components"]
        if c["type"] == "dropdown"
    }
    price = dropdowns["filter-price"]
    assert price["label"] == "Price" and price["value"] == ANY
    assert len(price["choices"]) == 4 and price["choices"][1][0].startswith("under ")
