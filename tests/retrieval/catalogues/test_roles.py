"""Roles from what columns hold: an H&M-style articles table, under its own column names and
under opaque ones; codes, constants, links, markup, paths and k=v lists are no attributes;
one column per role; multi-valued cells."""

from __future__ import annotations

import csv

import pytest
from articles_fixture import ARTICLES_COLUMNS, article_rows, renamed

from retrieval.catalogues.columns import cell_values, has_value, parse_price, shopper_facing
from retrieval.catalogues.schema import infer_schema
from retrieval.catalogues.vocabulary import resolve

WANTED_ROLES = {  # column -> role it must get, and only these columns are attributes
    "product_type_name": "garment",
    "product_group_name": "garment",
    "graphical_appearance_name": "pattern",
    "perceived_colour_master_name": "color",
    "index_group_name": "gender",
}


@pytest.fixture(scope="module")
def articles():
    return infer_schema(ARTICLES_COLUMNS, article_rows())


def test_articles_roles_come_from_values(articles):
    assert {n: a.role for n, a in articles.attributes.items()} == WANTED_ROLES
    assert articles.kind == "product_type_name" and articles.title_column == "prod_name"
    assert articles.attributes["product_type_name"].parent == "product_group_name"


def test_codes_and_ids_are_no_attributes(articles):
    assert articles.id_column == "article_id"
    codes = [c for c in ARTICLES_COLUMNS[1:] if c.endswith(("_no", "_id", "_code"))]
    assert len(codes) == 11
    assert set(codes) <= set(articles.ignored)  # product_code, department_no, index_code, ...


def test_one_colour_column_the_others_as_its_synonyms(articles):
    colour = articles.attributes["perceived_colour_master_name"]
    assert articles.by_role("color") == ["perceived_colour_master_name"]
    assert set(colour.merged) == {"colour_group_name", "perceived_colour_value_name"}
    assert sorted(colour.synonyms["Blue"]) == ["Dark Blue", "Light Blue"]
    assert colour.synonyms["White"] == ["Off White"]
    department = articles.attributes["index_group_name"]
    assert {"index_name", "section_name"} <= set(department.merged)  # its finer splits
    assert {"department_name", "garment_group_name"} <= set(articles.ignored)


def test_opaque_column_names_get_the_same_roles():
    columns, rows = renamed(article_rows())
    schema = infer_schema(columns, rows)
    names = dict(zip(ARTICLES_COLUMNS, columns))
    assert {n: a.role for n, a in schema.attributes.items()} == {
        names[c]: role for c, role in WANTED_ROLES.items()
    }
    assert schema.kind == names["product_type_name"]
    assert names["product_code"] in schema.ignored and names["department_no"] in schema.ignored


@pytest.mark.parametrize(
    "concept, value",
    [("men", "Menswear"), ("women", "Ladieswear"), ("kids", "Baby/Children")],
)
def test_gender_words_map_onto_the_department_that_holds_them(articles, concept, value):
    assert resolve(articles, "gender", concept) == ("index_group_name", value)
    assert resolve(articles, "gender", "boys") == ("index_group_name", "Baby/Children")


def _shop(n: int = 40) -> tuple[list[str], list[dict[str, str]]]:
    columns = ["sku", "name", "colors", "price", "stock", "thumbnail", "desc", "extra", "category"]
    rows = [
        {
            "sku": f"SKU-{i:05d}",
            "name": f"Tee {i}",
            "colors": ["Red|Blue", "Blue", "Green; Red", "Black"][i % 4],
            "price": f"{12 + i % 7}.99",
            "stock": "in stock",
            "thumbnail": f"/m/h/mh{i:02d}-black_main.jpg",
            "desc": f"<p>A soft <b>cotton</b> tee, number {i}</p>",
            "extra": f"has_options=0,material={['Cotton', 'Linen'][i % 2]},size={'SML'[i % 3]}",
            "category": ["Default Category/Men/Tops/Tees", "Default Category/Women/Tops"][i % 2],
        }
        for i in range(n)
    ]
    return columns, rows


def test_constants_links_markup_paths_and_kv_lists_are_no_attributes():
    columns, rows = _shop()
    schema = infer_schema(columns, rows)
    assert list(schema.attributes) == ["colors", "price", "material", "size"]  # k=v keys
    assert {"stock", "thumbnail", "extra", "category"} <= set(schema.ignored)
    assert schema.description_column == "desc" and "desc" not in schema.attributes  # markup
    assert "has_options" in schema.ignored  # a constant
    assert schema.role("material") == "material" and schema.role("size") == "size"
    assert rows[1]["material"] == "Linen" and rows[1]["size"] == "M"  # items carry them
    assert schema.attributes["price"].role == "price"
    assert schema.attributes["price"].range == (12.99, 18.99)


def test_multi_valued_cells_count_each_value():
    colors = infer_schema(*_shop()).attributes["colors"]
    assert colors.multi_valued and colors.role == "color"
    assert colors.counts == {"Blue": 20, "Red": 20, "Black": 10, "Green": 10}
    assert cell_values("Green; Red") == ["Green", "Red"] and cell_values("a\nb") == ["a", "b"]
    assert has_value("Red|Blue", "Blue") and not has_value("Red|Blue", "Bl")
    assert infer_schema(*_shop()).caption({"colors": "Red|Blue"}) == "a Red and Blue"


@pytest.mark.parametrize(
    "value, facing",
    [
        ("Navy Blue", True),
        ("Other", False),
        ("Other pattern", False),
        ("Other Pink", True),
        ("<p>soft</p>", False),
        ("https://shop.example/a.jpg", False),
        ("Default Category/Women/Tops/Jackets", False),
        ("Apparel & Accessories > Clothing > Shirts & Tops", False),
        ("Baby/Children", True),
        ("has_options=0,required_options=0,size=XS", False),
        ("A very long value that nobody would ever click on", False),
    ],
)
def test_shopper_facing_values(value, facing):
    assert shopper_facing(value) is facing


@pytest.mark.parametrize(
    "text, number",
    [("29.99", 29.99), ("$29.99", 29.99), ("15.00 USD", 15.0), ("1,299.00", 1299.0), ("x", None)],
)
def test_prices_are_read_with_their_currency(text, number):
    assert parse_price(text) == number


def test_prices_with_a_currency_are_a_numeric_price_attribute():
    rows = [{"id": str(i), "price": f"{10 + i}.00 USD", "colour": "red"} for i in range(12)]
    schema = infer_schema(["id", "price", "colour"], rows)
    assert schema.attributes["price"].kind == "numeric" and schema.role("price") == "price"
    assert schema.attributes["price"].range == (10.0, 21.0)
    assert "colour" in schema.ignored  # one value in every row: a constant


def test_a_shop_folder_reads_kv_lists_and_several_values_per_cell(tmp_path):
    from PIL import Image

    from agent.state import Constraint
    from retrieval.catalogues import FolderCatalogue
    from retrieval.indexing.gallery import AttributeTable

    columns, rows = _shop(24)
    with open(tmp_path / "metadata.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    for row in rows:
        Image.new("RGB", (8, 8), (200, 30, 30)).save(tmp_path / f"{row['sku']}.png")
    catalogue = FolderCatalogue(tmp_path)
    assert catalogue.schema.id_column == "sku" and len(catalogue) == 24
    first = catalogue.items[0].attributes
    assert first["colors"] == "Red|Blue" and first["material"] == "Cotton" and first["size"] == "S"
    table = AttributeTable(catalogue.items, catalogue.schema.attributes)
    blue = table.mask([Constraint(attribute="colors", value="Blue")])
    assert int(blue.sum()) == 12  # 'Red|Blue' and 'Blue' cells
    assert table.counts("colors", [Constraint(attribute="material", value="Cotton")]) == {
        "Blue": 6,
        "Green": 6,
        "Red": 12,
    }
