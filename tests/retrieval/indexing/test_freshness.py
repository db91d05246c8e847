"""An index of a folder catalogue that changed since its build is refused with one line, never
searched: photos removed, added or replaced, metadata edited (issue: no stale answers)."""

from __future__ import annotations

import csv
import re
import shlex

import pytest
from catalogue_fixtures import shape_photo, write_shape_shop

from ui.cli import main

pytestmark = pytest.mark.usefixtures("restore_logging")  # main() configures logging


@pytest.fixture
def shop(tmp_path):
    """(shop folder, index folder) of a 36-photo shop indexed through the CLI: a test may
    change the shop (the index records where it was built from)."""
    folder = write_shape_shop(tmp_path / "shop")
    assert main(["index", "build", "--catalogue", str(folder), "--out", str(tmp_path / "idx")]) == 0
    return folder, tmp_path / "idx"


def search(folder, index, capsys) -> tuple[int, str]:
    argv = ["search", "--text", "a red square", "--index", str(index), "--catalogue", str(folder)]
    argv += ["--json"]
    status = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = re.findall(r"circhat: error: [^\r\n]*", err)
    return status, errors[0] if errors else ""


def out_of_date(folder, index, change: str) -> str:
    rebuild = (
        f"circhat index build --out {index} --catalogue {folder.resolve()} "
        f"--metadata {folder.resolve() / 'metadata.csv'} --model fashion-mini"
    )
    return (
        f"circhat: error: index {index} is out of date: {folder.resolve()} changed since it "
        f"was built ({change}); rebuild it with `{rebuild}` (unchanged photos come from the "
        "embedding cache)"
    )


def test_an_unchanged_catalogue_is_searched(shop, capsys):
    assert search(*shop, capsys) == (0, "")


def test_a_removed_photo_is_refused_not_returned(shop, capsys):
    folder, index = shop
    (folder / "images" / "p005.jpg").unlink()
    assert search(folder, index, capsys) == (
        2,
        out_of_date(folder, index, "0 photos added and 1 removed"),
    )


def test_a_replaced_photo_is_refused_not_scored_on_its_old_vector(shop, capsys):
    folder, index = shop
    shape_photo("Watches", "Blue", 7, folder / "images" / "p000.jpg")  # new pixels, same name
    expected = out_of_date(
        folder,
        index,
        "photos replaced, metadata edited, or its rows read differently by this version of circhat",
    )
    assert search(folder, index, capsys) == (2, expected)


def test_a_new_photo_is_refused_until_the_index_is_rebuilt(shop, capsys):
    folder, index = shop
    shape_photo("Tshirts", "Red", 2, folder / "images" / "p900.jpg")
    with open(folder / "metadata.csv", "a", newline="", encoding="utf-8") as f:
        csv.writer(f).writerow(["p900", "Tshirts", "Red", "Shop Red Tshirts no. 900"])
    expected = out_of_date(folder, index, "1 photos added and 0 removed")
    assert search(folder, index, capsys) == (2, expected)
    rebuild = shlex.split(expected.split("`")[1])[1:]  # the pasted command, less `circhat`
    assert main(rebuild) == 0
    capsys.readouterr()
    assert search(folder, index, capsys) == (0, "")


def test_opening_a_current_index_reads_the_catalogue_once(shop, monkeypatch):
    """The freshness check's reading of the catalogue is the gallery's: not read twice."""
    from retrieval.catalogues import CatalogueRef, FolderCatalogue
    from retrieval.indexing.gallery import open_gallery

    folder, index = shop
    opened = []
    real_init = FolderCatalogue.__init__
    monkeypatch.setattr(
        FolderCatalogue,
        "__init__",
        lambda self, *a, **k: opened.append(a) or real_init(self, *a, **k),
    )
    ref = CatalogueRef.parse(str(folder), str(folder / "metadata.csv"))
    gallery = open_gallery(ref, folder=index)
    assert len(gallery.catalogue) == 36 and len(gallery.table.codes) > 0
    assert len(opened) == 1
