"""More bad inputs (issue 29, item 6), one circhat command each: odd image files and metadata
files (encodings, delimiters, quoting, columns, shop exports). Each case asserts the exit status
and circhat's first line (one line naming the input and what to do, never a traceback) and that
no input file changed (tests/bad_input_runs.py). Written before the fixes: the cases still
failing carry `xfail(strict=True)` with the reason. Index folders, command-line values and chat
lines: tests/test_bad_inputs_more_cli.py."""

from __future__ import annotations

import csv
import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from bad_input_runs import (
    build,
    copy_shop,
    home,
    inspect,
    search,
    shop,
    shop_rows,
    with_metadata,
)
from PIL import Image

pytestmark = pytest.mark.usefixtures("restore_logging")  # main() configures logging
__all__ = ["home", "shop"]  # fixtures


# damaged and odd image files -------------------------------------------------------------

ODD_PHOTOS = {
    "empty": lambda p: p.write_bytes(b""),
    "cut in half": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "text named .jpg": lambda p: p.write_text("not a photo\n"),
    "a folder named .jpg": lambda p: (p.unlink(), p.mkdir()),
}


@pytest.mark.parametrize("odd", list(ODD_PHOTOS))
def test_inspect_counts_an_odd_photo_out_and_names_it(shop, tmp_path, capsys, odd):
    folder = copy_shop(shop, tmp_path)
    ODD_PHOTOS[odd](folder / "images" / "p007.jpg")
    status, out, _ = inspect(folder, capsys)
    assert status == 0 and out.splitlines()[0].endswith(": 35 items")
    assert re.search(r"  1 .* skipped \(first: [^)]*(images/p007\.jpg|line 9)", out)


@pytest.mark.parametrize("odd", ["cut in half", "text named .jpg"])
def test_index_build_skips_an_odd_photo_by_name(shop, home, capsys, odd):
    folder = copy_shop(shop, home)
    ODD_PHOTOS[odd](folder / "images" / "p007.jpg")
    status, out, said = build(folder, home / "idx", capsys)
    assert status == 0 and "indexed 35 items" in out and ", 1 skipped" in out
    photo = folder / "images" / "p007.jpg"
    assert said.startswith(f"circhat: skipped {photo}: {photo}: not a readable image")


def test_a_png_saved_as_jpg_is_read_as_the_picture_it_is(shop, home, capsys):
    folder = copy_shop(shop, home)
    Image.new("RGB", (40, 40), (200, 30, 30)).save(folder / "images" / "p007.jpg", "PNG")
    status, out, said = build(folder, home / "idx", capsys)
    assert (status, said) == (0, "") and "36 items" in out and ", 0 skipped" in out


def test_a_catalogue_without_its_images_folder_is_refused(shop, tmp_path, capsys):
    folder = copy_shop(shop, tmp_path)
    shutil.rmtree(folder / "images")
    status, _, said = inspect(folder, capsys)
    assert status == 2
    assert said.startswith(f"circhat: error: {folder}: no images") and "--images" in said


@pytest.mark.parametrize(
    "upload, message",
    [
        (b"", "{path}: empty file"),
        (b"GIF89a\x01\x00garbage", "{path}: not a readable image"),
        (b"%PDF-1.4\n%\xe2\xe3", "{path}: not a readable image"),
    ],
)
def test_an_upload_that_is_no_picture_is_named(shop, tmp_path, capsys, upload, message):
    path = tmp_path / "upload.jpg"
    path.write_bytes(upload)
    status, _, said = search(shop, capsys, "--image", path)
    assert status == 2 and said.startswith("circhat: error: " + message.format(path=path))


def test_an_upload_of_a_billion_pixels_is_refused_not_decoded(shop, tmp_path, capsys):
    path = tmp_path / "huge.png"
    Image.new("1", (40_000, 25_000)).save(path)  # a few kilobytes, a billion pixels
    status, _, said = search(shop, capsys, "--image", path)
    assert status == 2 and said.startswith(f"circhat: error: {path}: ")
    assert "pixels" in said


# metadata files: encodings, delimiters, quoting, columns, shop exports -------------------


@pytest.mark.parametrize(
    "header, named",
    [
        (
            "id,articleType,articleType,productDisplayName",
            "'articleType' is named twice (columns 2 and 3)",
        ),
        ("id,id,baseColour,productDisplayName", "'id' is named twice (columns 1 and 2)"),
    ],
)
def test_a_column_named_twice_is_refused_by_name(shop, tmp_path, capsys, header, named):
    rows = shop_rows(shop)
    folder = with_metadata(shop, tmp_path, "\n".join([header, *rows[1:]]) + "\n")
    assert inspect(folder, capsys)[::2] == (
        2,
        f"circhat: error: metadata file {folder / 'metadata.csv'}: the column {named}: give "
        "each column its own name",
    )


def test_a_header_only_file_asks_for_rows(shop, tmp_path, capsys):
    folder = with_metadata(shop, tmp_path, shop_rows(shop)[0] + "\n")
    status, _, said = inspect(folder, capsys)
    assert status == 2 and said.startswith(
        f"circhat: error: metadata file {folder / 'metadata.csv'} has no readable rows"
    )
    assert said.endswith("give it one row per image under a header")


def test_blank_lines_before_the_header_are_passed_over(shop, tmp_path, capsys):
    folder = with_metadata(shop, tmp_path, "\n\n\n" + "\n".join(shop_rows(shop)) + "\n")
    status, out, said = inspect(folder, capsys)
    assert (status, said) == (0, "") and out.splitlines()[0].endswith(": 36 items")


def test_old_mac_line_endings_are_read_as_lines(shop, tmp_path, capsys):
    folder = with_metadata(shop, tmp_path, "\r".join(shop_rows(shop)) + "\r")
    status, out, said = inspect(folder, capsys)
    assert (status, said) == (0, "") and out.splitlines()[0].endswith(": 36 items")


def test_a_json_array_saved_as_csv_is_named_as_json(shop, tmp_path, capsys):
    rows = [{"id": f"p{n:03d}", "colour": "Red"} for n in range(36)]
    folder = with_metadata(shop, tmp_path, json.dumps(rows))
    status, _, said = inspect(folder, capsys)
    assert status == 2
    assert said.startswith(f"circhat: error: metadata file {folder / 'metadata.csv'} holds JSON")


def test_key_value_garbage_asks_for_an_id_column(shop, tmp_path, capsys):
    text = "".join(f"id=p{n:03d};kind=Tshirts;colour=Red\n" for n in range(36))
    folder = with_metadata(shop, tmp_path, text)
    status, _, said = inspect(folder, capsys)
    assert status == 2 and said.startswith(
        f"circhat: error: {folder / 'metadata.csv'}: no 'file' column (the image's path in the "
        "folder) and no 'id' column"
    )


def test_a_jsonl_line_that_is_not_json_is_one_skipped_row(shop, tmp_path, capsys):
    lines = [json.dumps({"id": f"p{n:03d}", "colour": "Red"}) for n in range(36)]
    lines.insert(5, "not json at all")
    folder = with_metadata(shop, tmp_path, "\n".join(lines) + "\n", "metadata.jsonl")
    status, out, said = inspect(folder, capsys)
    assert status == 0 and out.splitlines()[0].endswith(": 36 items")
    assert said.startswith(f"circhat: {folder / 'metadata.jsonl'}: 1 malformed rows skipped")


def test_html_titles_are_read_as_their_text(shop, tmp_path, capsys):
    text = "\n".join(shop_rows(shop)).replace(",Shop ", ",<p><b>Shop</b> ") + "\n"
    folder = with_metadata(shop, tmp_path, text)
    status, _, said = inspect(folder, capsys)
    assert (status, said) == (0, "")
    from retrieval.catalogues import FolderCatalogue

    assert FolderCatalogue(folder).items[0].title == "Shop Red Tshirts no. 0"


def test_prices_like_abc_are_left_empty_and_named(shop, tmp_path, capsys):
    rows = shop_rows(shop)
    priced = [rows[0] + ",price"] + [
        f"{row},{'abc' if n % 9 == 0 else f'{10 + n}.50'}" for n, row in enumerate(rows[1:])
    ]
    folder = with_metadata(shop, tmp_path, "\n".join(priced) + "\n")
    status, out, said = inspect(folder, capsys, "--json")
    assert (status, said) == (
        0,
        f"circhat: {folder / 'metadata.csv'}: 4 prices not read (left empty) (line 2, line 11, "
        "line 20, line 29: 'abc')",
    )
    price = json.loads(out)["attributes"]["price"]
    assert price["kind"] == "numeric" and price["range"] == [11.5, 45.5]


def test_a_metadata_folder_is_not_blamed_on_permissions(shop, tmp_path, capsys):
    folder = copy_shop(shop, tmp_path)
    (folder / "metadata.csv").unlink()
    (folder / "metadata.csv").mkdir()
    status, _, said = inspect(folder, capsys, "--metadata", folder / "metadata.csv")
    assert status == 2 and said == (
        f"circhat: error: metadata file {folder / 'metadata.csv'} is a folder: give "
        "--metadata the CSV or JSONL file in it"
    )


def test_an_unknown_key_in_catalogue_json_names_the_key(shop, tmp_path, capsys):
    folder = copy_shop(shop, tmp_path)
    (folder / "catalogue.json").write_text('{"layout": "shopify"}')
    status, _, said = inspect(folder, capsys)
    assert status == 2 and said.startswith(
        f"circhat: error: {folder / 'catalogue.json'}: key 'layout': Extra inputs"
    )


def test_catalogue_json_naming_a_missing_column_names_it(shop, tmp_path, capsys):
    folder = copy_shop(shop, tmp_path)
    (folder / "catalogue.json").write_text('{"kind": "category"}')
    status, _, said = inspect(folder, capsys)
    assert status == 2 and said.startswith(f"circhat: error: {folder / 'catalogue.json'}")
    assert "'category'" in said


def shopify_without_images(tmp_path):
    sys.path.insert(0, str(Path(__file__).parent / "retrieval" / "catalogues"))
    from shop_exports import write_shopify

    export = write_shopify(tmp_path / "shopify")
    with open(export, encoding="utf-8") as f:
        lines = f.read().splitlines()
    header = lines[0].split(",")
    keep = [n for n, name in enumerate(header) if name not in ("Image Src", "Variant Image")]

    rows = list(csv.reader(lines))
    with open(export, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([[row[n] for n in keep if n < len(row)] for row in rows])
    return export.parent


def test_a_shop_export_without_image_columns_says_which_are_missing(tmp_path, capsys):
    folder = shopify_without_images(tmp_path)
    status, _, said = inspect(folder, capsys)
    assert status == 2 and said.startswith("circhat: error: ")
    assert "products_export.csv" in said and "image" in said.lower()
