"""The app's filter counts: the gallery's table under the constraints the search filters by."""

from __future__ import annotations

from collections import Counter

import pytest

from agent.agent import Agent, AgentConfig
from agent.state import Constraint
from retrieval.indexing.gallery import Gallery
from ui.view import ANY, Facets

RED = Constraint(attribute="color", value="red")  # read from words
NO_STRIPES = Constraint(attribute="pattern", value="striped", polarity="avoid", clicked=True)


def _counts(items, attribute: str, keep) -> dict[str, int]:
    """The oracle: the counted values of the items `keep` accepts."""
    return dict(Counter(i.attributes.get(attribute, "") for i in items if keep(i)))


@pytest.mark.parametrize("hard", [True, False])
def test_counts_follow_the_filters_the_search_applies(small_gallery, trained_encoder, hard):
    _, index = small_gallery
    config = AgentConfig(hard_constraints=hard)
    agent = Agent(Gallery.in_memory(trained_encoder, index), composer="sum", config=config)
    facets = Facets(agent.searcher)
    constraints = [RED, NO_STRIPES]
    striped = lambda i: i.attributes.get("pattern") == "striped"  # noqa: E731
    red = lambda i: i.attributes.get("color") == "red"  # noqa: E731
    # typed words filter only with hard constraints; the clicked avoid always does
    expected = _counts(index.items, "category", lambda i: (red(i) or not hard) and not striped(i))
    choices = dict((value, label) for label, value in facets.choices("category", constraints))
    assert choices.pop(ANY) == ANY
    assert choices == {v: f"{v} ({n:,})" for v, n in expected.items()}
    # a facet leaves out its own requirement: every colour is offered with its count
    colours = dict((v, label) for label, v in facets.choices("color", constraints))
    assert (
        colours["blue"]
        == f"blue ({_counts(index.items, 'color', lambda i: not striped(i))['blue']:,})"
    )
    mask = agent.searcher.allowed(constraints)
    assert int(mask.sum()) == sum(expected.values())  # what the next search can return


def test_filters_count_each_value_of_a_cell_and_list_only_shopper_facing_ones(
    tmp_path, tiny_encoder
):
    """'Red|Blue' counts under Red and Blue; 'Other' and category paths are never listed."""
    import csv

    from PIL import Image

    from retrieval.catalogues import FolderCatalogue
    from retrieval.indexing.local import build_index

    colours = ["Red|Blue", "Blue", "Green; Red", "Other"]
    with open(tmp_path / "metadata.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["sku", "name", "colors", "fit"])
        for i in range(24):
            writer.writerow([f"s{i:03d}", f"Tee {i}", colours[i % 4], ["Slim", "Regular"][i % 2]])
            Image.new("RGB", (8, 8), (10 * i, 90, 160)).save(tmp_path / f"s{i:03d}.png")
    shop = FolderCatalogue(tmp_path)
    index = build_index(shop, tiny_encoder, progress=False)
    agent = Agent(Gallery.in_memory(tiny_encoder, index, shop.schema), "sum")
    facets = Facets(agent.searcher)
    choices = facets.choices("colors", [])
    assert choices == [
        (ANY, ANY),
        ("Blue (12)", "Blue"),
        ("Red (12)", "Red"),
        ("Green (6)", "Green"),
    ]
    slim = Constraint(attribute="fit", value="Slim", clicked=True)
    assert facets.choices("colors", [slim])[1:] == [
        ("Red (12)", "Red"),
        ("Blue (6)", "Blue"),
        ("Green (6)", "Green"),
    ]
    blue = Constraint(attribute="colors", value="Blue", clicked=True)
    assert int(agent.searcher.allowed([blue]).sum()) == 12


def test_start_up_examples_come_from_the_attribute_table_each_value_of_a_cell_counted(
    tmp_path, tiny_encoder
):
    """'Red|Blue' dresses count as red dresses and as blue ones: the examples are the
    commonest colour and kind pairs the table holds, never a raw cell or a placeholder."""
    import csv

    from PIL import Image

    from retrieval.catalogues import FolderCatalogue
    from retrieval.indexing.local import build_index
    from ui.view import examples

    colours = ["Red|Blue", "Blue", "Green; Red", "Other"]
    with open(tmp_path / "metadata.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["sku", "name", "colors", "type"])
        for i in range(24):
            kind = ["Dresses", "Shirts"][i % 2]
            writer.writerow([f"s{i:03d}", f"Item {i}", colours[i % 4], kind])
            Image.new("RGB", (8, 8), (10 * i, 90, 160)).save(tmp_path / f"s{i:03d}.png")
    shop = FolderCatalogue(tmp_path)
    assert shop.schema.kind == "type" and shop.schema.attributes["colors"].multi_valued
    index = build_index(shop, tiny_encoder, progress=False)
    agent = Agent(Gallery.in_memory(tiny_encoder, index, shop.schema), "sum")
    said = examples(agent.schema, agent.gallery.table, count=2)
    assert len(said) == 3 and said[2].startswith("in ")
    assert "red" in said[0].lower() and "dress" in said[0].lower()  # 12 red dresses
    assert "blue" in said[1].lower() and "shirt" in said[1].lower()  # 12 blue shirts
    assert not any("|" in s or ";" in s or "other" in s.lower() for s in said)
