"""Agent.step on a catalogue with its own schema: filters for every attribute, refinements,
new searches, nested attributes."""

import pytest
from catalogue_fixtures import write_styles_shop

from agent.agent import Agent, Turn
from agent.constraints import merge_constraints
from agent.state import Constraint
from retrieval.catalogues import FolderCatalogue
from retrieval.indexing.gallery import Gallery
from retrieval.indexing.local import build_index


@pytest.fixture(scope="module")
def shop_agent(tmp_path_factory, tiny_encoder):
    folder = write_styles_shop(tmp_path_factory.mktemp("styles"))
    catalogue = FolderCatalogue(folder, folder / "styles.csv")
    index = build_index(catalogue, tiny_encoder, progress=False)
    return Agent(Gallery.in_memory(tiny_encoder, index, catalogue.schema), "sum")


def active(state):
    return [(c.attribute, c.value, c.polarity) for c in state.constraints]


def test_constraints_filter_on_every_attribute(shop_agent):
    state, results = shop_agent.step(
        shop_agent.new_state(), Turn(text="a navy formal shirt for men")
    )
    assert results and all(
        (
            r.attributes["baseColour"],
            r.attributes["usage"],
            r.attributes["articleType"],
            r.attributes["gender"],
        )
        == ("Navy Blue", "Formal", "Shirts", "Men")
        for r in results
    )
    assert results[0].title.startswith("Brand")


def test_a_refinement_keeps_the_search_and_a_new_request_drops_it(shop_agent):
    state, _ = shop_agent.step(shop_agent.new_state(), Turn(text="a formal shirt for men"))
    state, results = shop_agent.step(state, Turn(text="in black"))
    assert not state.turns[-1].new_search and state.turns[-1].dropped == []
    assert ("articleType", "Shirts", "require") in active(state)
    assert all(r.attributes["baseColour"] == "Black" for r in results)
    state, results = shop_agent.step(state, Turn(text="now show me watches"))
    assert state.turns[-1].new_search
    assert {c.value for c in state.turns[-1].dropped} == {"Formal", "Shirts", "Men", "Black"}
    assert active(state) == [("articleType", "Watches", "require")]
    assert results and all(r.attributes["articleType"] == "Watches" for r in results)
    restored = state.undo()
    assert ("articleType", "Shirts", "require") in active(restored)


def test_start_over_drops_everything_and_asks_what_to_look_for(shop_agent):
    state, _ = shop_agent.step(shop_agent.new_state(), Turn(text="black tshirts"))
    state, results = shop_agent.step(state, Turn(text="start over"))
    assert results == [] and state.constraints == [] and state.reference is None
    assert "started over" in state.turns[-1].note


def test_a_pick_with_words_is_a_refinement(shop_agent):
    state, results = shop_agent.step(shop_agent.new_state(), Turn(text="tshirts"))
    state, _ = shop_agent.step(state, Turn(select=results[0].id, text="show me something in black"))
    assert not state.turns[-1].new_search and ("articleType", "Tshirts", "require") in active(state)


def test_a_narrower_requirement_replaces_its_family(shop_agent):
    schema = shop_agent.schema
    footwear = [Constraint(attribute="masterCategory", value="Footwear")]
    casual = Constraint(attribute="articleType", value="Casual Shoes")
    merged = merge_constraints(footwear, [casual], schema)
    assert [(c.attribute, c.value) for c in merged] == [("articleType", "Casual Shoes")]
    women = Constraint(attribute="gender", value="Women")
    assert len(merge_constraints([women], [casual], schema)) == 2  # other attributes persist


def test_filters_off_changes_no_result_without_constraints(shop_agent):
    from agent.agent import AgentConfig

    soft = Agent(shop_agent.gallery, "sum", config=AgentConfig(hard_constraints=False))
    start = shop_agent.index.items[3].id
    for agent_ in (shop_agent, soft):
        assert agent_.rewriter.rewrite("more like this one").constraints == []
    dialogues = []
    for agent_ in (shop_agent, soft):
        state, _ = agent_.step(agent_.new_state(), Turn(item=start))
        state, results = agent_.step(state, Turn(text="more like this one"))
        dialogues.append([r.id for r in results])
    assert dialogues[0] == dialogues[1]
    state, filtered = shop_agent.step(shop_agent.new_state(), Turn(text="black watches"))
    state, free = soft.step(soft.new_state(), Turn(text="black watches"))
    assert all(r.attributes["articleType"] == "Watches" for r in filtered)
    assert [r.id for r in free] != [r.id for r in filtered]  # soft terms only: other items come
