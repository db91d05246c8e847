"""Agent.step with prices (issue 25, item 3) and honest limits (issue 27, item 4) on small
real catalogues: bounds filter and persist across turns, orders sort, "cheap" becomes the
cheapest third, undo restores; the reply and the price filter say the range; a catalogue
without prices says so and lists what it can filter by."""

from __future__ import annotations

import pytest
from catalogue_fixtures import write_priced_shop, write_styles_shop

from agent.agent import Agent, Turn
from agent.search import RELATIVE_SHARE
from agent.state import Constraint
from retrieval.catalogues import FolderCatalogue
from retrieval.indexing.gallery import Gallery
from retrieval.indexing.local import build_index
from ui.replies import reply
from ui.view import ANY, Facets, card_caption, selected_value


def _agent(folder, encoder) -> Agent:
    catalogue = FolderCatalogue(folder, folder / "styles.csv")
    index = build_index(catalogue, encoder, progress=False)
    return Agent(Gallery.in_memory(encoder, index, catalogue.schema), "sum")


@pytest.fixture(scope="module")
def priced_agent(tmp_path_factory, tiny_encoder):
    return _agent(write_priced_shop(tmp_path_factory.mktemp("priced")), tiny_encoder)


@pytest.fixture(scope="module")
def unpriced_agent(tmp_path_factory, tiny_encoder):
    return _agent(write_styles_shop(tmp_path_factory.mktemp("styles")), tiny_encoder)


def price(result) -> float:
    return float(result.attributes["price"])


def all_prices(agent) -> list[float]:
    return sorted(float(i.attributes["price"]) for i in agent.index.items)


def test_a_bound_filters_persists_across_turns_and_undoes(priced_agent):
    agent = priced_agent
    state, results = agent.step(agent.new_state(), Turn(text="shirts under 60"))
    assert results and all(
        price(r) <= 60 and r.attributes["articleType"] == "Shirts" for r in results
    )
    assert "shirts under 60" in reply(state, agent.schema).lower()
    black, _ = agent.step(state, Turn(text="in black"))  # black shirts cost 78.99 and more
    assert "nothing left is also under 60" in black.turns[-1].note
    state, results = agent.step(state, Turn(text="in navy blue"))
    assert results and all(
        price(r) <= 60 and r.attributes["baseColour"] == "Navy Blue" for r in results
    )
    assert "under 60" in reply(state, agent.schema)
    state, results = agent.step(state, Turn(text="actually over 60"))
    bounds = [(c.low, c.high) for c in state.constraints if c.attribute == "price"]
    assert bounds == [(60.0, None)]  # the new bound replaced the old one
    assert all(price(r) >= 60 for r in results)
    assert [(c.low, c.high) for c in state.undo().constraints if c.numeric] == [(None, 60.0)]


def test_orders_sort_the_results_by_price(priced_agent):
    agent = priced_agent
    state, cheapest = agent.step(agent.new_state(), Turn(text="cheapest first"))
    assert [price(r) for r in cheapest] == all_prices(agent)[: len(cheapest)]
    assert "cheapest first" in reply(state, agent.schema)
    state, dearest = agent.step(agent.new_state(), Turn(text="tshirts, the most expensive"))
    shown = [price(r) for r in dearest]
    assert shown == sorted(shown, reverse=True) and len(shown) >= 2
    tshirts = [
        float(i.attributes["price"])
        for i in agent.index.items
        if i.attributes["articleType"] == "Tshirts"
    ]
    assert shown[0] == max(tshirts)


def test_cheap_is_the_cheapest_third_of_the_candidates_and_stays(priced_agent):
    agent = priced_agent
    state, results = agent.step(agent.new_state(), Turn(text="something cheap"))
    (bound,) = [c for c in state.constraints if c.numeric]
    prices = all_prices(agent)
    assert bound.relative == "cheap" and bound.low is None
    assert prices[0] <= bound.high <= prices[int(len(prices) * RELATIVE_SHARE) + 1]
    assert results and all(price(r) <= bound.high for r in results)
    assert f"{bound.value} (cheap)" in reply(state, agent.schema)
    state, _ = agent.step(state, Turn(text="in black"))
    assert [c.high for c in state.constraints if c.numeric] == [bound.high]


def test_the_price_filter_offers_ranges_with_counts_and_keeps_the_asked_one(priced_agent):
    agent = priced_agent
    facets = Facets(agent.searcher)
    assert facets.names[-1] == "price"
    choices = facets.choices("price", [])
    assert choices[0] == (ANY, ANY) and len(choices) == 4
    counted = sum(int(label.rsplit("(", 1)[1].rstrip(")")) for label, _ in choices[1:])
    assert counted >= len(agent.index)  # the ranges cover every item (edges shared)
    asked = [Constraint(attribute="price", value="under 33", high=33.0)]
    assert selected_value(asked, "price") == "under 33"
    assert facets.choices("price", asked)[1][1] == "under 33"
    # a filter's choice gives the range as words only: it filters all the same
    chosen = Constraint(attribute="price", value="20 to 40", clicked=True)
    allowed = agent.searcher.allowed([chosen])
    assert 0 < allowed.sum() < len(agent.index)
    assert all(
        20 <= float(agent.index.items[i].attributes["price"]) <= 40 for i in allowed.nonzero()[0]
    )
    counts = dict(facets.choices("baseColour", [chosen]))
    assert (
        sum(int(label.rsplit("(", 1)[1].rstrip(")")) for label in list(counts)[1:]) == allowed.sum()
    )


def test_a_card_shows_the_price(priced_agent):
    agent = priced_agent
    _, results = agent.step(agent.new_state(), Turn(text="watches"))
    assert results[0].attributes["price"] in card_caption(results[0], agent.schema)


def test_a_catalogue_without_prices_says_so_and_lists_its_filters(unpriced_agent):
    agent = unpriced_agent
    state, results = agent.step(agent.new_state(), Turn(text="affordable sports shoes for men"))
    said = reply(state, agent.schema)
    assert said.startswith("This catalogue has no prices, so I can't filter or sort by price.")
    assert "You can filter by article type, " in said and "affordable" not in said
    assert results and all(r.attributes["articleType"] == "Sports Shoes" for r in results)
    assert state.turns[-1].caption == "Sports Shoes, Men"
    state, results = agent.step(state, Turn(text="is it in stock?"))
    assert results and state.turns[-1].caption == "Sports Shoes, Men"  # the search as it stands
    assert "says nothing about stock" in reply(state, agent.schema)
    state, results = agent.step(agent.new_state(), Turn(text="do you ship to canada?"))
    assert results == [] and state.constraints == []
    said = reply(state, agent.schema)
    assert said.startswith("This catalogue says nothing about delivery")
    assert said.endswith("Tell me what you are looking for.")


def test_a_limit_whose_words_the_titles_hold_is_searched_as_text(tmp_path, tiny_encoder):
    folder = write_styles_shop(tmp_path)
    styles = (folder / "styles.csv").read_text(encoding="utf-8").splitlines()
    plus = [f"{line} Plus Size" if "Kurtas" in line else line for line in styles]
    (folder / "styles.csv").write_text("\n".join(plus) + "\n", encoding="utf-8")
    agent = _agent(folder, tiny_encoder)
    state, results = agent.step(agent.new_state(), Turn(text="plus size kurtas please"))
    turn = state.turns[-1]
    assert turn.limits == [] and turn.text_words == ["plus", "size"]
    assert results and all("Plus Size" in r.title for r in results)
    assert "no sizes" not in reply(state, agent.schema)
    state, _ = agent.step(state, Turn(text="can you deliver them by friday?"))
    assert state.turns[-1].limits == ["delivery"]
