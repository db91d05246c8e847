"""eval.shops: a simulated shop is a subset with kinds of its own, renamed columns and
reworded values, that opens as a folder catalogue with the same roles."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PIL import Image

from eval.shops import ShopPlan, make_shop, pick_products
from retrieval.catalogues import FolderCatalogue

KINDS = ["Tshirts", "Shirts", "Sweaters", "Jeans", "Dresses", "Skirts"]
COLOURS = ["Navy Blue", "Black", "Red"]


@pytest.fixture
def source(tmp_path):
    folder = tmp_path / "source"
    folder.mkdir()
    with open(folder / "styles.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "gender", "articleType", "baseColour", "productDisplayName"])
        for i in range(48):
            kind, colour = KINDS[i % 6], COLOURS[i % 3]
            gender = ["Men", "Women"][i % 2]
            writer.writerow([i, gender, kind, colour, f"Brand{i % 4} {gender} {colour} {kind}"])
            Image.new("RGB", (8, 8), (5 * i, 90, 160)).save(folder / f"{i}.png")
    return FolderCatalogue(folder)


def test_the_two_halves_sell_different_kinds_and_each_opens_with_the_same_roles(source, tmp_path):
    kind = source.schema.kind
    first = {i.attributes[kind] for i in pick_products(source, ShopPlan(100, "first", seed=3))}
    second = {i.attributes[kind] for i in pick_products(source, ShopPlan(100, "second", seed=3))}
    assert first and second and not first & second and first | second == set(KINDS)

    path = make_shop(source, tmp_path / "shop", ShopPlan(20, "all", seed=3))
    shop = FolderCatalogue(tmp_path / "shop")
    assert shop.metadata_path == path and len(shop.items) == 20
    with open(path, encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert not {"articleType", "baseColour", "gender", "id"} & set(header)  # renamed
    roles = {shop.schema.role(a) for a in shop.schema.categorical}
    assert {"garment", "color", "gender"} <= roles
    titles = {i.title for i in source.items}
    assert all(item.title in titles for item in shop.items)  # the shop's own words kept
    assert all(Path(item.source).read_bytes()[:4] == b"\x89PNG" for item in shop.items)


def test_values_are_reworded_consistently_and_never_merged(source, tmp_path):
    make_shop(source, tmp_path / "shop", ShopPlan(48, "all", seed=2))
    shop = FolderCatalogue(tmp_path / "shop")
    kind = shop.schema.kind
    by_title = {i.title: i for i in source.items}
    said = {}
    for item in shop.items:
        original = by_title[item.title].attributes["articleType"]
        said.setdefault(original, set()).add(item.attributes[kind])
    assert all(len(words) == 1 for words in said.values())  # one wording per value
    assert len({next(iter(w)) for w in said.values()}) == len(KINDS)  # none merged
    assert said != {k: {k} for k in KINDS}  # reworded
