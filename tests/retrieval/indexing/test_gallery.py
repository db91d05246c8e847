"""The gallery's attribute table: masks and counts against a brute-force oracle."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from agent.state import Constraint
from retrieval.catalogues import Item
from retrieval.indexing.gallery import AttributeTable

ATTRIBUTES = ("color", "kind", "size")
VALUES = {"color": ["red", "blue", "navy"], "kind": ["dress", "shirt"], "size": ["s", "m", "l"]}


@pytest.fixture(scope="module")
def items() -> list[Item]:
    """40 items; some lack an attribute, one has a value no constraint names."""
    rng = np.random.default_rng(3)
    out = []
    for i in range(40):
        attributes = {a: str(rng.choice(VALUES[a])) for a in ATTRIBUTES if rng.random() > 0.15}
        out.append(Item(f"item-{i}", attributes))
    out[7] = Item("item-7", {"color": "teal", "kind": "dress"})
    return out


def _allowed(item: Item, constraints: list[Constraint]) -> bool:
    """The oracle: an item passes a require when it has the value, an avoid when it has not."""
    for c in constraints:
        if c.attribute not in ATTRIBUTES:
            continue
        has = item.attributes.get(c.attribute, "") == c.value
        if has != (c.polarity == "require"):
            return False
    return True


def _constraint_sets():
    pool = [
        Constraint(attribute=a, value=v, polarity=p)
        for a in ATTRIBUTES
        for v in [*VALUES[a], "purple"]
        for p in ("require", "avoid")
    ] + [Constraint(attribute="brand", value="acme")]  # outside the table: ignored
    rng = np.random.default_rng(0)
    yield []
    for size in (1, 2, 3):
        for _ in range(40):
            yield [pool[i] for i in rng.choice(len(pool), size, replace=False)]


def test_mask_and_counts_match_the_oracle(items):
    table = AttributeTable(items, ATTRIBUTES)
    for constraints in _constraint_sets():
        expected = np.array([_allowed(item, constraints) for item in items])
        assert table.mask(constraints).tolist() == expected.tolist(), constraints
        for attribute in ATTRIBUTES:
            oracle: dict[str, int] = {}
            for item, ok in zip(items, expected):
                if ok:
                    value = item.attributes.get(attribute, "")
                    oracle[value] = oracle.get(value, 0) + 1
            assert table.counts(attribute, constraints) == oracle


def test_codes_are_integers_into_sorted_values(items):
    table = AttributeTable(items, ATTRIBUTES)
    assert table.values["color"].tolist() == ["", "blue", "navy", "red", "teal"]
    assert table.codes["color"].dtype.kind == "i" and len(table.codes["color"]) == len(items)
    assert table.code("color", "teal") == 4 and table.code("color", "purple") == -1
    for item, code in itertools.islice(zip(items, table.codes["kind"]), 10):
        assert table.values["kind"][code] == item.attributes.get("kind", "")


def test_two_opens_of_a_missing_index_build_it_once(tmp_path, monkeypatch, caplog):
    """Two shoppers' processes (here threads) open a catalogue whose index is missing: one
    builds it, the other waits on the folder's lock and loads that build."""
    import logging
    import threading

    from PIL import Image

    from retrieval.catalogues import CatalogueRef
    from retrieval.encoders import load_encoder
    from retrieval.indexing.gallery import open_gallery

    load_encoder()  # its libraries imported once (transformers' lazy imports race in threads)
    monkeypatch.setenv("CIRCHAT_HOME", str(tmp_path / "home"))
    shop = tmp_path / "shop"
    shop.mkdir()
    for i in range(24):
        Image.new("RGB", (32, 32), (10 * i, 255 - 10 * i, 80)).save(shop / f"{i}.png")
    ref, folder = CatalogueRef.parse(str(shop)), tmp_path / "index"
    opened, failed = [], []

    def open_it() -> None:
        try:
            opened.append(open_gallery(ref, folder=folder))
        except Exception as err:  # noqa: BLE001 (the test says which)
            failed.append(err)

    with caplog.at_level(logging.INFO, logger="retrieval.indexing.gallery"):
        threads = [threading.Thread(target=open_it) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert failed == [] and len(opened) == 2
    assert caplog.text.count("building the index") == 1
    assert opened[0].index.manifest.built_at == opened[1].index.manifest.built_at
    assert len(opened[0].index) == len(opened[1].index) == 24


def test_a_gallery_in_memory_needs_no_catalogue_ref(small_gallery, trained_encoder):
    """Made of an encoder and an index in memory: the index's schema, a table over its items,
    and a clear error for the catalogue it was not given."""
    from collections import Counter

    from retrieval.indexing.gallery import Gallery

    catalogue, index = small_gallery
    gallery = Gallery.in_memory(trained_encoder, index)
    assert gallery.ref is None and gallery.folder is None
    assert gallery.schema is index.schema and gallery.table is gallery.table  # built once
    colours = Counter(item.attributes.get("color", "") for item in index.items)
    assert gallery.table.size == len(index) == 1000
    assert gallery.table.tally("color") == dict(colours)
    with pytest.raises(ValueError, match="without a catalogue"):
        _ = gallery.catalogue
    given = Gallery.in_memory(trained_encoder, index, catalogue=catalogue)
    assert given.catalogue is catalogue and given.schema is catalogue.schema
