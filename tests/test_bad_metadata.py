"""Metadata as it was saved and what `catalogue inspect` reads (issue 29, items 4 to 6): each
case through the CLI, asserting the exit status and the first line said."""

from __future__ import annotations

import json
import os
import re

import pytest
from catalogue_fixtures import write_shape_shop

from retrieval.catalogues import FolderCatalogue
from retrieval.catalogues.schema import infer_schema
from ui.cli import main

pytestmark = pytest.mark.usefixtures("restore_logging")  # main() configures logging


@pytest.fixture(scope="module")
def shop_text(tmp_path_factory):
    """(folder, metadata text) of the 36-photo shape shop, written once."""
    folder = write_shape_shop(tmp_path_factory.mktemp("metadata") / "shop")
    return folder, (folder / "metadata.csv").read_text(encoding="utf-8").replace("\r\n", "\n")


def _shop(shop_text, tmp_path, data: bytes):
    folder, _ = shop_text
    copy = tmp_path / "shop"
    (copy / "images").mkdir(parents=True)
    for image in (folder / "images").iterdir():
        os.link(image, copy / "images" / image.name)
    (copy / "metadata.csv").write_bytes(data)
    return copy


def _inspect(folder, capsys) -> tuple[int, str, str]:
    """(exit status, first line out, circhat's first line on stderr) of `catalogue inspect`."""
    status = main(["catalogue", "inspect", str(folder)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    said = re.findall(r"circhat: [^\r\n]*", err)
    return status, out.splitlines()[0] if out else "", said[0] if said else ""


# delimiters and encodings: the file as it was saved --------------------------------------

SAVED = {
    "semicolons": lambda text: text.replace(",", ";").encode(),
    "tabs": lambda text: text.replace(",", "\t").encode(),
    "pipes": lambda text: text.replace(",", "|").encode(),
    "quoted semicolons": lambda text: "\n".join(
        ";".join(f'"{cell}"' for cell in line.split(",")) for line in text.splitlines()
    ).encode(),
    "UTF-8 with a byte-order mark": lambda text: text.encode("utf-8-sig"),
    "UTF-16 LE, tabs": lambda text: b"\xff\xfe" + text.replace(",", "\t").encode("utf-16-le"),
    "UTF-16 LE, commas": lambda text: b"\xff\xfe" + text.encode("utf-16-le"),
    "UTF-16 BE, semicolons": lambda text: b"\xfe\xff" + text.replace(",", ";").encode("utf-16-be"),
    "UTF-32": lambda text: text.encode("utf-32"),
}


@pytest.mark.parametrize("saved", list(SAVED))
def test_metadata_is_read_as_it_was_saved(shop_text, tmp_path, capsys, saved):
    folder = _shop(shop_text, tmp_path, SAVED[saved](shop_text[1]))
    status, first, said = _inspect(folder, capsys)
    assert (status, said) == (0, "")
    assert first == f"folder:{folder.resolve()}|{(folder / 'metadata.csv').resolve()}: 36 items"
    catalogue = FolderCatalogue(folder)
    assert catalogue.schema.id_column == "id" and catalogue.schema.kind == "articleType"
    assert catalogue.schema.title_column == "productDisplayName"
    assert catalogue.items[0].attributes == {"articleType": "Tshirts", "baseColour": "Red"}


def test_a_windows_1252_row_is_read_as_the_readme_says(shop_text, tmp_path, capsys):
    text = shop_text[1].replace("Shop Red Tshirts no. 0", "Caf\xe9 cr\xe8me Tshirts")
    folder = _shop(shop_text, tmp_path, text.encode("cp1252"))
    status, first, said = _inspect(folder, capsys)
    assert status == 0 and first.endswith(": 36 items")
    assert (
        said
        == f"circhat: {folder / 'metadata.csv'}: the file is not UTF-8: it was read as Windows-1252"
    )
    assert FolderCatalogue(folder).items[0].title == "Café crème Tshirts"


def test_binary_metadata_is_named_as_the_fault_not_the_images(shop_text, tmp_path, capsys):
    junk = bytes(range(256)) * 40
    folder = _shop(shop_text, tmp_path, junk)
    status, first, said = _inspect(folder, capsys)
    assert (status, first) == (2, "")
    assert said == (
        f"circhat: error: metadata file {folder / 'metadata.csv'} is not text (binary data, or "
        "an encoding other than UTF-8, UTF-16, UTF-32 or Windows-1252): save it as CSV or "
        "JSONL, UTF-8 encoded"
    )
    argv = ["index", "build", "--catalogue", str(folder), "--out", str(tmp_path / "idx")]
    assert main(argv) == 2
    assert "is not text" in capsys.readouterr().err


def test_metadata_whose_rows_are_all_unreadable_says_so(shop_text, tmp_path, capsys):
    rows = "".join(f"p{n:03d},\x81\x9d,Red,{'a long title ' * 8}\n" for n in range(36)).encode(
        "latin-1"
    )
    folder = _shop(shop_text, tmp_path, b"id,articleType,baseColour,productDisplayName\n" + rows)
    status, _, said = _inspect(folder, capsys)
    assert status == 2
    assert said == (
        f"circhat: error: metadata file {folder / 'metadata.csv'} has no readable rows (36 "
        "malformed rows skipped (line 2, line 3, line 4, line 5, line 6: bad encoding (neither "
        "UTF-8 nor Windows-1252) and 31 more)): give it one row per image under a header"
    )


def test_metadata_that_names_no_photo_says_how_rows_match(shop_text, tmp_path, capsys):
    text = shop_text[1].replace("\np", "\nq")
    folder = _shop(shop_text, tmp_path, text.encode())
    status, _, said = _inspect(folder, capsys)
    assert status == 2
    assert said.startswith(
        f"circhat: error: metadata file {folder / 'metadata.csv'}: none of its 36 rows matches "
        f"an image in {folder} (36 rows without an image skipped (line 2: no image 'q000'; "
    )
    assert said.endswith(
        "rows need an 'id' column equal to the image's path in the folder without extension"
    )


# the schema: from the photographed rows, the title never the kind ------------------------


def test_the_schema_is_read_from_the_rows_that_have_a_photo(shop_text, tmp_path, capsys):
    extra = "".join(
        f"x{n:04d},{kind},{colour},Shop {colour} {kind} no. {n}\n"
        for n, (kind, colour) in enumerate(
            [("Jeans", "Black"), ("Dresses", "Pink"), ("Sarees", "Yellow")] * 40
        )
    )
    folder = _shop(shop_text, tmp_path, (shop_text[1] + extra).encode())
    status, first, said = _inspect(folder, capsys)
    assert status == 0 and first.endswith(": 36 items")
    assert said == (
        f"circhat: {folder / 'metadata.csv'}: 120 of 156 metadata rows have no photo: the schema "
        "is read from the 36 that do"
    )
    schema = FolderCatalogue(folder).schema
    assert schema.attributes["articleType"].values == ["Handbags", "Tshirts", "Watches"]
    assert schema.attributes["baseColour"].counts == {"Blue": 12, "Green": 12, "Red": 12}


def test_titles_that_repeat_are_the_title_never_the_kind(shop_text, tmp_path, capsys):
    text = re.sub(r" no\. \d+", "", shop_text[1])  # 9 titles, each on 4 photos
    folder = _shop(shop_text, tmp_path, text.encode())
    assert main(["catalogue", "inspect", str(folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "articleType" and report["title_column"] == "productDisplayName"
    assert set(report["attributes"]) == {"articleType", "baseColour"}


def test_with_20000_rows_the_title_column_is_not_the_kind():
    kinds = ["Tshirts", "Shirts", "Jeans", "Dresses", "Watches"]
    colours = ["Red", "Blue", "Black", "White"]
    rows = [
        {
            "id": str(n),
            "articleType": kinds[n % 5],
            "baseColour": colours[n % 4],
            "productDisplayName": f"Brand{n % 10} {colours[n % 4]} {kinds[n % 5]}",
        }
        for n in range(20_000)
    ]
    schema = infer_schema(list(rows[0]), rows)
    assert schema.kind == "articleType" and schema.title_column == "productDisplayName"
    rows = [{**r, "label": r.pop("productDisplayName")} for r in rows]  # not named a title
    assert infer_schema(list(rows[0]), rows).kind == "articleType"


# what inspect counts: readable images only, every skipped file named ---------------------


def test_inspect_counts_readable_images_and_names_what_it_skipped(shop_text, tmp_path, capsys):
    folder = _shop(shop_text, tmp_path, shop_text[1].encode())
    (folder / "images" / "p001.jpg").unlink()
    (folder / "images" / "p001.jpg").write_bytes(b"not a jpeg")
    os.symlink("loop.jpg", folder / "images" / "loop.jpg")
    assert main(["catalogue", "inspect", str(folder)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith(": 35 items")
    assert "  1 symlink loops skipped (first: images/loop.jpg)" in out
    assert "  1 unreadable images skipped (first: images/p001.jpg)" in out
    assert main(["catalogue", "inspect", str(folder), "--json"]) == 0
    skipped = json.loads(capsys.readouterr().out)["skipped"]
    assert skipped["symlink loops skipped"] == {"count": 1, "first": ["images/loop.jpg"]}
