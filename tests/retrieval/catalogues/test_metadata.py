"""A shop's metadata as shops write it: nothing is lost silently, nothing crashes."""

import json

import pytest
from catalogue_fixtures import write_styles_shop

from retrieval.catalogues import FolderCatalogue
from retrieval.catalogues.metadata import read_metadata


def test_bad_rows_are_skipped_and_reported_with_line_numbers(tmp_path):
    folder = write_styles_shop(
        tmp_path,
        [
            "9001,Men,Apparel,Topwear,Shirts,Blue,Fall,2012,Casual,Shirt, with a comma, inside",
            "9002,Women,Apparel,Topwear,Tops,Pink,Summer,2012,Casual,No photo for this one",
            "1000,Men,Apparel,Topwear,Tshirts,Red,Summer,2012,Casual,A repeated id",
        ],
    )
    (folder / "images" / "7777.jpg").write_bytes((folder / "images" / "1000.jpg").read_bytes())
    catalogue = FolderCatalogue(folder, folder / "styles.csv")
    assert len(catalogue) == 30
    lines = catalogue.problems.lines()
    assert "1 malformed rows skipped (line 32: has 12 fields, the header has 10)" in lines
    assert "1 rows without an image skipped (line 33: no image '9002')" in lines
    assert "1 rows with a repeated id skipped (line 34: id '1000', first on line 2)" in lines
    assert "1 images without a metadata row skipped (images/7777.jpg)" in lines
    report = catalogue.report()["skipped"]
    assert report["malformed rows skipped"] == {"count": 1, "first": ["line 32"]}


def test_a_byte_order_mark_and_missing_markers_are_read_as_excel_writes_them(tmp_path):
    folder = write_styles_shop(tmp_path)
    text = (folder / "styles.csv").read_text(encoding="utf-8").replace(",Casual,", ",NA,", 1)
    (folder / "styles.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    table = read_metadata(folder / "styles.csv")
    assert table.columns[0] == "id" and table.rows[0]["usage"] == ""
    assert FolderCatalogue(folder, folder / "styles.csv").items[0].id == "1000"


def test_a_windows_1252_row_is_read_and_undecodable_bytes_skip_only_their_row(tmp_path):
    folder = write_styles_shop(tmp_path)
    with open(folder / "styles.csv", "ab") as f:
        f.write(b"1001x,Men,Apparel,Topwear,Shirts,Blue,Fall,2012,Casual,Caf\xe9 shirt\n")
        f.write("1001y,Men,Apparel,Topwear,Shirts,Blue,Fall,2012,Casual,Caf\xe9 shirt\n".encode())
        f.write(b"1001z,Men,Apparel,Topwear,Shirts,Blue,Fall,2012,Casual,\x81\x9d shirt\n")
    table = read_metadata(folder / "styles.csv")
    assert [row["productDisplayName"] for row in table.rows[-2:]] == ["Caf\xe9 shirt"] * 2
    assert len(table.rows) == 32
    assert table.problems.lines() == [
        "1 lines are not UTF-8 (lines 32): read as Windows-1252",
        "1 malformed rows skipped (line 34: bad encoding (neither UTF-8 nor Windows-1252))",
    ]


def test_a_whole_file_in_windows_1252_is_read_with_a_note(tmp_path):
    (tmp_path / "metadata.csv").write_bytes(
        "file,colour\na.png,caf\xe9 cr\xe8me\n".encode("cp1252")
    )
    table = read_metadata(tmp_path / "metadata.csv")
    assert table.rows[0]["colour"] == "café crème"
    assert "read as Windows-1252" in table.problems.lines()[0]


def test_jsonl_rows_match_by_id_and_bad_lines_are_named(tmp_path):
    folder = write_styles_shop(tmp_path)
    rows = [json.dumps({"id": "1000", "colour": "navy"}), "[1, 2]", "{oops", ""]
    (folder / "metadata.jsonl").write_text("\n".join(rows))
    catalogue = FolderCatalogue(folder)
    assert [i.id for i in catalogue.items] == ["1000"]
    assert catalogue.problems.found["malformed rows skipped"] == [
        ("line 2", "not a JSON object"),
        ("line 3", "not valid JSON"),
    ]


def test_metadata_without_a_file_or_id_column_says_what_to_add(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    (tmp_path / "metadata.csv").write_text("colour,size\nred,M\n")
    with pytest.raises(ValueError, match="no 'file' column .* and no 'id' column"):
        FolderCatalogue(tmp_path)


def test_an_id_or_file_column_named_otherwise_is_found_by_its_values(tmp_path):
    """'Item Number' holding the photos' file names without extension is the id column;
    'Picture' holding their paths is the file column; neither becomes an attribute."""
    from PIL import Image

    (tmp_path / "shots").mkdir()
    for n in range(4):
        Image.new("RGB", (4, 4), (60 * n, 0, 0)).save(tmp_path / "shots" / f"P{n:04d}.png")
    rows = [f"P{n:04d},{['Red', 'Blue'][n % 2]}" for n in range(4)] + ["P0009,Red"]
    (tmp_path / "metadata.csv").write_text("Item Number,Colour\n" + "\n".join(rows) + "\n")
    shop = FolderCatalogue(tmp_path)
    assert [i.id for i in shop.items] == ["P0000", "P0001", "P0002", "P0003"]
    assert list(shop.schema.attributes) == ["Colour"]
    assert shop.problems.found["rows without an image skipped"] == [("line 6", "no image 'P0009'")]
    paths = [f"shots/P{n:04d}.png,{['Red', 'Blue'][n % 2]}" for n in range(4)]
    (tmp_path / "metadata.csv").write_text("Picture,Colour\n" + "\n".join(paths) + "\n")
    shop = FolderCatalogue(tmp_path)
    assert [i.attributes["Colour"] for i in shop.items] == ["Red", "Blue", "Red", "Blue"]
    assert list(shop.schema.attributes) == ["Colour"]


def test_a_named_metadata_file_must_exist(tmp_path):
    with pytest.raises(FileNotFoundError, match="check --metadata"):
        FolderCatalogue(tmp_path, tmp_path / "styles.csv")


def test_a_plain_files_description_column_is_the_items_description(tmp_path):
    """A free-text 'Product Description' beside the title is read as the description (for
    the text search and the encoder's captions), never as the title or an attribute."""
    from PIL import Image

    lines = ["id,Product Name,Colour,Product_Description"]
    for n in range(6):
        Image.new("RGB", (4, 4), (40 * n, 0, 0)).save(tmp_path / f"{n}.png")
        colour = ["Red", "Blue"][n % 2]
        text = f"<p>A soft linen shirt number {n} with a relaxed fit and a button-down collar.</p>"
        lines.append(f'{n},Linen Shirt {n},{colour},"{text}"')
    (tmp_path / "metadata.csv").write_text("\n".join(lines) + "\n")
    shop = FolderCatalogue(tmp_path)
    assert shop.schema.title_column == "Product Name"
    assert shop.schema.description_column == "Product_Description"
    assert list(shop.schema.attributes) == ["Colour"]
    first = shop.items[0]
    assert first.title == "Linen Shirt 0"
    assert first.description.startswith("A soft linen shirt number 0 with")  # no HTML
