"""The cell readers the layouts share."""

import pytest

from retrieval.catalogues.layouts.photos import PhotoFinder
from retrieval.catalogues.layouts.rows import (
    category_levels,
    plain_text,
    read_price,
    reference_path,
    unpack_pairs,
)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("15.00 USD", (15.0, "USD")),
        ("$1,299.99", (1299.99, "USD")),
        ("12,50 €", (12.5, "EUR")),
        ("1.299,95 EUR", (1299.95, "EUR")),
        ("42", (42.0, "")),
        ("", (None, "")),
        ("free", (None, "")),
    ],
)
def test_read_price(cell, expected):
    assert read_price(cell) == expected


def test_plain_text_drops_html():
    cell = "<p>Soft <strong>cotton</strong> &amp; fleece.</p><ul><li>Warm</li><li>Light</li></ul>"
    assert plain_text(cell) == "Soft cotton & fleece. Warm Light"


def test_unpack_pairs_reads_packed_attributes():
    assert unpack_pairs("color=Black,size=XS,has_options=0") == {
        "color": "Black",
        "size": "XS",
        "has_options": "0",
    }
    assert unpack_pairs("features=Pocket, 15 inches,color=Red")["features"] == "Pocket, 15 inches"


def test_category_levels_take_the_most_specific_path():
    cell = "Default Category/Collections/Eco,Default Category/Men/Tops/Hoodies"
    assert category_levels(cell, ",", "/") == ["Default Category", "Men", "Tops", "Hoodies"]
    assert category_levels("A > B > C", None, ">") == ["A", "B", "C"]


def test_photo_finder_reads_paths_urls_names_and_ids():
    finder = PhotoFinder(["m/h/mh01.jpg", "files/Hoodie Black.png", "0108775015.jpg"])
    assert reference_path("/m/h/mh01.jpg") == "m/h/mh01.jpg"
    assert finder.find("/m/h/mh01.jpg") == "m/h/mh01.jpg"
    assert finder.find("https://cdn.example/s/files/Hoodie%20Black.png?v=3") == (
        "files/Hoodie Black.png"
    )
    assert finder.first(["https://cdn.example/other/mh01.jpeg"], "x") == "m/h/mh01.jpg"
    assert finder.first([], "0108775015") == "0108775015.jpg"
    assert finder.first(["nothing.jpg"], "nope") is None
