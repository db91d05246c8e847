import json

import pytest
from catalogue_fixtures import write_styles_shop

from retrieval.catalogues import CatalogueRef, FolderCatalogue
from retrieval.catalogues.schema import fmnist_schema, infer_schema, read_override


def _rows(n: int = 40) -> tuple[list[str], list[dict]]:
    columns = ["sku", "colour", "size", "price", "title", "url"]
    rows = [
        {
            "sku": f"s{i}",
            "colour": ["red", "blue", "green"][i % 3],
            "size": ["S", "M", "L", "XL"][i % 4],
            "price": f"{9.5 + i:.2f}",
            "title": f"Cotton tee number {i} in colour",
            "url": f"https://shop.example/item/{i}",
        }
        for i in range(n)
    ]
    return columns, rows


def test_columns_are_told_apart():
    schema = infer_schema(*_rows())
    assert schema.id_column == "sku" and schema.title_column == "title"
    assert schema.attributes["colour"].kind == "categorical"
    assert schema.attributes["colour"].counts == {"red": 14, "blue": 13, "green": 13}
    assert schema.attributes["price"].kind == "numeric"
    assert schema.attributes["price"].range == (9.5, 48.5)
    assert schema.categorical == ["colour", "size"]
    assert "url" in schema.ignored and "url" not in schema.attributes
    assert schema.attributes["colour"].role == "color"  # its values are colours
    assert schema.attributes["colour"].values[0] == "red"  # most frequent first


def test_a_schema_file_chooses_attributes_labels_kind_and_synonyms(tmp_path):
    (tmp_path / "catalogue.yaml").write_text(
        "kind: size\n"
        "attributes:\n"
        "  colour: {label: Colour, synonyms: {red: [scarlet]}}\n"
        "  size: {label: Size, role: garment}\n"
        "ignore: [price]\n"
    )
    schema = infer_schema(*_rows(), read_override(tmp_path / "catalogue.yaml"))
    assert list(schema.attributes) == ["colour", "size"] and schema.kind == "size"
    assert schema.label("colour") == "Colour" and schema.role("size") == "garment"
    assert schema.attributes["colour"].synonyms == {"red": ["scarlet"]}
    assert "price" in schema.ignored


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"kind": "colour", "atributes": {}}', "key 'atributes'"),
        ('{"attributes": {"colour": {"lable": "Colour"}}}', "key 'attributes.colour.lable'"),
        ('{"title": "name"}', "title names 'name', which is not a column"),
        ('{"attributes": {"colour": {"synonyms": {"pink": ["rose"]}}}}', "not a value of colour"),
        ("{not json", "not valid JSON"),
    ],
)
def test_a_bad_schema_file_names_the_key(tmp_path, content, message):
    (tmp_path / "catalogue.json").write_text(content)
    with pytest.raises(ValueError, match=message):
        infer_schema(*_rows(), read_override(tmp_path / "catalogue.json"))


def test_fmnist_color_is_a_schema_stored_as_data():
    schema = fmnist_schema()
    assert schema.kind == "category" and schema.categorical == ["category", "color", "pattern"]
    assert schema.caption({"category": "dress", "color": "red", "pattern": "striped"}) == (
        "a red striped dress"
    )
    assert "crimson" not in schema.attributes["color"].synonyms["red"]  # training phrasings only
    assert CatalogueRef.parse("fmnist-color").open().schema == schema


def test_the_styles_layout_loads_as_it_is(tmp_path):
    folder = write_styles_shop(tmp_path)
    catalogue = FolderCatalogue(folder, folder / "styles.csv")
    schema = catalogue.schema
    assert len(catalogue) == 30 and catalogue.items[0].id == "1000"
    assert catalogue.items[0].title == "Brand0 Men Navy Blue Tshirts 0"
    assert schema.kind == "articleType" and schema.title_column == "productDisplayName"
    assert schema.attributes["articleType"].parent == "subCategory"
    assert schema.attributes["subCategory"].parent == "masterCategory"
    assert schema.attributes["year"].kind == "numeric"
    assert schema.role("baseColour") == "color" and schema.role("usage") == "occasion"
    assert schema.family("articleType") == {"articleType", "subCategory", "masterCategory"}


def test_the_folders_only_csv_is_its_metadata(tmp_path):
    folder = write_styles_shop(tmp_path)
    assert len(FolderCatalogue(folder)) == 30  # styles.csv found without --metadata


def test_catalogue_inspect_prints_the_schema(tmp_path, capsys):
    from ui.cli import main

    folder = write_styles_shop(tmp_path)
    assert main(["catalogue", "inspect", str(folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["items"] == 30 and report["kind"] == "articleType"
    assert report["attributes"]["gender"]["values"] == {"Men": 15, "Women": 12, "Unisex": 3}
    assert report["title_column"] == "productDisplayName"
    assert main(["catalogue", "inspect", str(folder)]) == 0
    text = capsys.readouterr().out
    assert "articleType (categorical, role garment, parent subCategory)" in text


def test_columns_whose_names_say_nothing_are_labelled_by_their_role():
    """attr_4 holding kinds of item is 'Type' to a shopper, attr_5 holding colours 'Colour';
    a column with a name of its own keeps it."""

    kinds = ["T-Shirt", "Shirt", "Jeans", "Dress"]
    colours = ["Navy Blue", "Black", "Red"]
    rows = [
        {
            "id": str(n),
            "attr_4": kinds[n % 4],
            "attr_5": colours[n % 3],
            "Fit": ["Slim", "Loose"][n % 2],
        }
        for n in range(48)
    ]
    schema = infer_schema(["id", "attr_4", "attr_5", "Fit"], rows)
    assert schema.kind == "attr_4"
    assert {a: schema.label(a) for a in schema.attributes} == {
        "attr_4": "Type",
        "attr_5": "Colour",
        "Fit": "Fit",
    }
