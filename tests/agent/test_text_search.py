"""Words no attribute holds are searched in the shop's own titles and fused with the vector
ranking; the reply names them."""

import pytest
from catalogue_fixtures import PRODUCTS, write_styles_shop

from agent.agent import Agent, Turn
from agent.reading import words_beyond_the_filters
from agent.state import Constraint
from retrieval.catalogues import FolderCatalogue
from retrieval.indexing.gallery import Gallery
from retrieval.indexing.local import build_index
from ui.replies import reply


@pytest.fixture(scope="module")
def styles_agent(tmp_path_factory, trained_encoder):
    folder = write_styles_shop(tmp_path_factory.mktemp("shop"))
    catalogue = FolderCatalogue(folder)
    index = build_index(catalogue, trained_encoder, progress=False)
    return Agent(Gallery.in_memory(trained_encoder, index, catalogue.schema), "sum")


def test_words_beyond_the_filters_leave_out_values_and_function_words():
    held = [Constraint(attribute="articleType", value="Sports Shoes")]
    assert words_beyond_the_filters("Sports Shoes, nike for my run", held) == ["nike", "run"]
    assert words_beyond_the_filters("", held) == []


def test_a_brand_in_the_titles_is_found_and_named(styles_agent):
    state, results = styles_agent.step(styles_agent.new_state(), Turn(text="brand1 shirts"))
    record = state.turns[-1]
    assert record.text_words == ["brand1"]
    shirts = sum(p[3] == "Shirts" for p in PRODUCTS)
    titles = [r.title for r in results]
    assert len(titles) == shirts * 3  # every shirt of the shop: the filter holds
    assert all("Brand1" in t for t in titles[:shirts]), titles  # the brand's come first
    assert "“brand1”" in reply(state, styles_agent.schema)


def test_a_word_no_title_holds_is_not_searched_as_text(styles_agent):
    state, _ = styles_agent.step(styles_agent.new_state(), Turn(text="velvet shirts"))
    assert state.turns[-1].text_words == []
    assert "product names" not in reply(state, styles_agent.schema)


def test_a_word_no_item_within_the_filters_holds_is_said_missing(tmp_path, trained_encoder):
    """'zeta shirts' where Zeta makes only shoes: "zeta" is searched, and the reply says no
    shirt names it (rather than showing other shirts as if they were Zeta's)."""
    from PIL import Image

    rows = ["id,productDisplayName,articleType,baseColour"]
    for n in range(12):
        kind, brand = ("Shirts", "Acme") if n % 2 else ("Casual Shoes", "Zeta")
        colour = ["Black", "White", "Navy Blue"][n % 3]
        rows.append(f"{n},{brand} {colour} {kind} {n},{kind},{colour}")
        Image.new("RGB", (16, 16), (20 * n, 80, 120)).save(tmp_path / f"{n}.png")
    (tmp_path / "styles.csv").write_text("\n".join(rows) + "\n")
    catalogue = FolderCatalogue(tmp_path)
    index = build_index(catalogue, trained_encoder, progress=False)
    agent = Agent(Gallery.in_memory(trained_encoder, index, catalogue.schema), "sum")
    state, results = agent.step(agent.new_state(), Turn(text="zeta shirts"))
    record = state.turns[-1]
    assert record.text_words == ["zeta"] and record.text_missing == ["zeta"]
    assert results and all("Shirts" in r.title for r in results)
    assert "but no such item names “zeta”" in reply(state, agent.schema)
    state, _ = agent.step(agent.new_state(), Turn(text="zeta shoes"))
    assert state.turns[-1].text_missing == []
    assert "no such item" not in reply(state, agent.schema)
