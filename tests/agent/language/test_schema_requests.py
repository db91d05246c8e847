"""Shopper language onto schemas that are not fmnist-color's: the request lists of
eval/lists/request_lists.py, mapped by the default rewriter (no LLM)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PIL import Image

from agent.rewriters import RuleRewriter
from eval.lists.request_lists import (
    FASHION_PRODUCTS,
    SHOE_SHOP,
    SHOE_SHOP_COLUMNS,
    SHOE_SHOP_VALUES,
)
from retrieval.catalogues import FolderCatalogue

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data" / "fashion-products"
MIN_ACCURACY = 0.9


def write_shoe_shop(folder: Path, rows: int = 84) -> Path:
    """A folder of tiny photos named by SKU with a metadata.csv of the shoe shop's columns."""
    (folder / "photos").mkdir(parents=True, exist_ok=True)
    names = list(SHOE_SHOP_VALUES)
    with open(folder / "metadata.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(SHOE_SHOP_COLUMNS)
        for i in range(rows):  # every value of every attribute, in varied combinations
            values = {
                n: SHOE_SHOP_VALUES[n][(i // (j + 1)) % len(SHOE_SHOP_VALUES[n])]
                for j, n in enumerate(names)
            }
            sku = f"sh-{i:04d}"
            Image.new("RGB", (8, 8), (i * 3 % 255, 80, 120)).save(folder / "photos" / f"{sku}.png")
            title = f"{values['colourway']} {values['material']} {values['style']} {i}"
            writer.writerow([sku, *values.values(), title])
    return folder


def accuracy(rewriter, requests) -> tuple[float, list]:
    misses = []
    for text, wanted in requests:
        found = {(c.attribute, c.value, c.polarity) for c in rewriter.rewrite(text).constraints}
        if found != wanted:
            misses.append((text, sorted(wanted - found), sorted(found - wanted)))
    return 1 - len(misses) / len(requests), misses


@pytest.fixture(scope="module")
def shoe_shop(tmp_path_factory):
    return FolderCatalogue(write_shoe_shop(tmp_path_factory.mktemp("shoes")))


def test_the_shoe_shop_schema_is_inferred(shoe_shop):
    schema = shoe_shop.schema
    assert schema.id_column == "sku" and schema.title_column == "name"
    assert set(schema.categorical) == set(SHOE_SHOP_VALUES)
    assert schema.role("colourway") == "color" and schema.role("audience") == "gender"
    assert schema.kind == "style"


def test_shoe_shop_requests_map_onto_its_values(shoe_shop, trained_encoder):
    assert len(SHOE_SHOP) >= 40
    score, misses = accuracy(RuleRewriter(trained_encoder, shoe_shop.schema), SHOE_SHOP)
    assert score >= MIN_ACCURACY, f"accuracy {score:.3f}; misses: {misses}"


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/data/fashion-products is absent")
def test_fashion_products_requests_map_onto_its_values(trained_encoder):
    assert len(FASHION_PRODUCTS) >= 60
    catalogue = FolderCatalogue(SHARED, SHARED / "styles.csv")
    score, misses = accuracy(RuleRewriter(trained_encoder, catalogue.schema), FASHION_PRODUCTS)
    assert score >= MIN_ACCURACY, f"accuracy {score:.3f}; misses: {misses}"
