""" "Other colours of this item": an undoable turn answered by a real instance index."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from agent.agent import Agent, AgentConfig, Turn, TurnError
from agent.other_colours import LazyInstance
from retrieval.indexing.gallery import Gallery
from retrieval.instance.descriptors import HeadDescriptorEncoder
from retrieval.instance.query import ExpansionSettings
from retrieval.instance.store import build_instance


@pytest.fixture(scope="module")
def instance_agent(small_gallery, trained_encoder, tmp_path_factory):
    catalogue, index = small_gallery
    folder = tmp_path_factory.mktemp("index")
    index.save(folder)
    settings = ExpansionSettings(method="alpha_qe", dba=False)
    search = build_instance(
        folder, catalogue, HeadDescriptorEncoder(trained_encoder), settings, False
    )
    agent = Agent(
        Gallery.in_memory(trained_encoder, index),
        composer="sum",
        config=AgentConfig(k=10),
        instance=LazyInstance(lambda: search),
    )
    return agent, catalogue


def test_other_colours_keeps_the_shape_and_changes_the_colour(instance_agent):
    agent, catalogue = instance_agent
    state, shown = agent.step(agent.new_state(), Turn(text="a dress"))
    item = shown[0]
    after, results = agent.other_colours(state, item.id)
    assert len(results) == 10 and item.id not in {r.id for r in results}
    kinds = Counter(r.attributes["category"] for r in results)
    colours = {r.attributes["color"] for r in results}
    assert kinds[item.attributes["category"]] >= 8  # the same kind of garment ...
    assert len(colours) >= 3  # ... in several colours
    record = after.turns[-1]
    assert record.action == "other_colours" and record.reference_id == item.id
    assert after.reference.item_id == item.id and item.id in after.liked
    assert agent.undo(after) == state


def test_a_text_turn_after_other_colours_starts_from_the_item(instance_agent):
    agent, _ = instance_agent
    state, shown = agent.step(agent.new_state(), Turn(text="a shirt"))
    state, _ = agent.other_colours(state, shown[0].id)
    state, results = agent.step(state, Turn(text="in red"))
    assert state.turns[-1].reference_id == shown[0].id
    assert [(c.attribute, c.value) for c in state.turns[-1].constraints] == [("color", "red")]
    assert results[0].attributes["color"] == "red"


def test_asking_in_words_is_the_other_colours_turn(instance_agent):
    """'show me this in other colours' is the action, never a colour filter or search words."""
    agent, _ = instance_agent
    state, shown = agent.step(agent.new_state(), Turn(text="a dress"))
    picked, _ = agent.step(state, Turn(select=shown[0].id))
    agent.colours.instance.get()  # open (the app opens it at start)
    after, results = agent.step(picked, Turn(text="show me this in other colours"))
    record = after.turns[-1]
    assert record.action == "other_colours" and record.reference_id == shown[0].id
    assert record.user_text == "show me this in other colours"
    assert after.constraints == picked.constraints  # no colour read from its words
    clicked, expected = agent.other_colours(picked, shown[0].id)
    assert [r.id for r in results] == [r.id for r in expected]
    assert agent.undo(after) == picked
    unopened = LazyInstance(lambda: agent.colours.instance.get())
    bare = Agent(agent.gallery, composer="sum", instance=unopened)  # words
    words = bare.step(picked, Turn(text="show me this in other colours"))[0].turns[-1]
    assert words.action != "other_colours" and words.constraints == []
    assert not unopened.ready  # a message never waits for the instance index to be built


def test_unknown_items_and_missing_indexes_say_what_to_do(instance_agent, small_gallery):
    agent, _ = instance_agent
    with pytest.raises(TurnError, match="not in the catalogue"):
        agent.other_colours(agent.new_state(), "no-such-item")
    _, index = small_gallery
    bare = Agent(Gallery.in_memory(agent.encoder, index), composer="sum")
    with pytest.raises(TurnError, match="instance index"):
        bare.other_colours(bare.new_state(), index.items[0].id)

    def broken():
        raise FileNotFoundError("no instance head weights at /nowhere")

    failing = Agent(
        Gallery.in_memory(agent.encoder, index), composer="sum", instance=LazyInstance(broken)
    )
    with pytest.raises(TurnError, match="not available here: no instance head"):
        failing.other_colours(failing.new_state(), index.items[0].id)


def test_the_instance_index_opens_once_for_concurrent_sessions():
    opened = []
    gate = threading.Event()

    def opener():
        gate.wait(1)
        opened.append(1)
        return "search"

    lazy = LazyInstance(opener)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(lazy.get())) for _ in range(4)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join()
    assert opened == [1] and answers == ["search"] * 4


def grouped(index, groups: dict[str, str]):
    """The gallery `index` with `groups` (item id -> product group) set on its items."""
    from dataclasses import replace

    from retrieval.index.search import SearchIndex

    items = [replace(item, group=groups.get(item.id, "")) for item in index.items]
    return SearchIndex(index.cpu_index, items, index.vectors, index.manifest, index.schema)


def first_of(index, colour: str, category: str, skip: tuple = ()) -> str:
    return next(
        i.id
        for i in index.items
        if i.attributes["color"] == colour and i.attributes["category"] == category
        if i.id not in skip
    )


def test_the_shops_colourways_come_first_and_the_picks_colour_never(instance_agent):
    from agent.other_colours import NO_COLOURWAYS
    from ui.replies import reply

    agent, _ = instance_agent
    base = agent.index
    pick = first_of(base, "red", "dress")
    blue, twin = first_of(base, "blue", "dress"), first_of(base, "red", "dress", (pick,))
    shirt = first_of(base, "green", "shirt")
    index = grouped(base, {pick: "G", blue: "G", twin: "G", shirt: "G"})
    instance = agent.colours.instance
    shop = Agent(
        Gallery.in_memory(agent.encoder, index),
        composer="sum",
        config=AgentConfig(k=10),
        instance=instance,
    )
    after, results = shop.other_colours(shop.new_state(), pick)
    ids = [r.id for r in results]
    assert ids[:2] == sorted([blue, shirt], key=index.positions.get)  # the shop's, in its order
    assert twin not in ids and pick not in ids and len(ids) == 10
    assert all(r.attributes["color"] != "red" for r in results)
    assert after.turns[-1].note == "" and NO_COLOURWAYS not in reply(after, index.schema)
    alone = first_of(base, "red", "shirt")
    after, results = shop.other_colours(shop.new_state(), alone)
    assert len(results) == 10 and all(r.attributes["color"] != "red" for r in results)
    assert after.turns[-1].note == NO_COLOURWAYS
    text = reply(after, index.schema)
    assert text.startswith("Here is the same style in other colours")
    assert "The shop lists no other colours of this product" in text


def test_same_colour_needs_a_colour_role_and_a_colour_value():
    from types import SimpleNamespace

    from agent.other_colours import same_colour

    coloured = SimpleNamespace(by_role=lambda role: ["color"] if role == "color" else [])
    plain = SimpleNamespace(by_role=lambda role: [])
    assert same_colour(coloured, {"color": "red"}, {"color": "red", "size": "M"})
    assert not same_colour(coloured, {"color": "red"}, {"color": "blue"})
    assert not same_colour(coloured, {}, {})  # the pick's colour unknown: keep
    assert not same_colour(plain, {"color": "red"}, {"color": "red"})  # no colour role
