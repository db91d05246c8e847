import json

import numpy as np
import pytest
from PIL import Image

from retrieval.catalogues import CatalogueRef, FmnistColorCatalogue, FolderCatalogue, decode_image
from retrieval.catalogues.fmnist_vocab import CATEGORIES, COLORS, PATTERNS


def test_fmnist_color_items_are_deterministic_and_captioned():
    a = FmnistColorCatalogue("test", seed=3, limit=50)
    b = FmnistColorCatalogue("test", seed=3, limit=50)
    c = FmnistColorCatalogue("test", seed=4, limit=50)
    assert [i.attributes for i in a.items] == [i.attributes for i in b.items]
    assert [i.attributes for i in a.items] != [i.attributes for i in c.items]
    assert np.array_equal(a.render([0, 7]), b.render([0, 7]))
    item = a.items[7]
    assert item.id == "test-00007"
    assert item.attributes["category"] in CATEGORIES
    assert item.attributes["color"] in COLORS and item.attributes["pattern"] in PATTERNS
    assert (
        item.caption
        == f"a {item.attributes['color']} {item.attributes['pattern']} {item.attributes['category']}"
    )


def test_fmnist_color_uses_the_real_labels():
    catalogue = FmnistColorCatalogue("test", limit=3)
    # the first three Fashion-MNIST test labels are 9, 2, 1
    assert [i.attributes["category"] for i in catalogue.items] == [
        "ankle boot",
        "pullover",
        "trousers",
    ]


def test_loaded_images_hash_their_pixels():
    catalogue = FmnistColorCatalogue("test", limit=10)
    first, second = catalogue.load([0, 1])
    assert first.image.shape == (64, 64, 3)
    assert first.content_hash != second.content_hash
    assert catalogue.load([0])[0].content_hash == first.content_hash


def _write_png(path, color):
    Image.new("RGB", (20, 30), color).save(path)


def test_folder_catalogue_with_csv_metadata(tmp_path):
    _write_png(tmp_path / "a.png", "red")
    (tmp_path / "sub").mkdir()
    _write_png(tmp_path / "sub" / "b.png", "blue")
    (tmp_path / "metadata.csv").write_text("file,id,caption,color\na.png,sku-1,a red thing,red\n")
    catalogue = FolderCatalogue(tmp_path)
    by_source = {i.source.split("/")[-1]: i for i in catalogue.items}
    assert by_source["a.png"].id == "sku-1"
    assert by_source["a.png"].attributes == {"color": "red"}
    assert by_source["a.png"].caption == "a red thing"
    assert "b.png" not in by_source  # an image without a metadata row is skipped, and reported
    assert catalogue.problems.lines() == ["1 images without a metadata row skipped (sub/b.png)"]
    loaded = catalogue.load(range(len(catalogue)))
    assert all(x.image is not None and x.image.shape == (30, 20, 3) for x in loaded)


def test_folder_catalogue_without_metadata_keeps_every_image(tmp_path):
    _write_png(tmp_path / "a.png", "red")
    (tmp_path / "sub").mkdir()
    _write_png(tmp_path / "sub" / "b.png", "blue")
    catalogue = FolderCatalogue(tmp_path)
    assert [i.id for i in catalogue.items] == ["a.png", "sub/b.png"]
    assert all(i.attributes == {} for i in catalogue.items)


def test_a_photo_gone_at_the_first_stat_is_stated_again_by_the_fingerprint(tmp_path):
    """The stat records are taken once; a file missing then is stat'ed again by the
    fingerprint: back by now, it counts as it is; still gone, its own error."""
    _write_png(tmp_path / "a.png", "red")
    _write_png(tmp_path / "b.png", "blue")
    catalogue = FolderCatalogue(tmp_path)
    moved = tmp_path.parent / "b-moved.png"
    (tmp_path / "b.png").rename(moved)
    assert catalogue.file_stats[1] is None and catalogue.file_stats[0].size > 0
    with pytest.raises(FileNotFoundError):
        catalogue.fingerprint()
    moved.rename(tmp_path / "b.png")
    assert catalogue.fingerprint() == FolderCatalogue(tmp_path).fingerprint()


def test_folder_catalogue_with_jsonl_metadata(tmp_path):
    _write_png(tmp_path / "x.png", "green")
    (tmp_path / "metadata.jsonl").write_text(
        json.dumps({"file": "x.png", "category": "dress"}) + "\n"
    )
    assert CatalogueRef.parse(str(tmp_path)).open().items[0].attributes == {"category": "dress"}


def test_bad_files_are_reported_not_fatal(tmp_path):
    _write_png(tmp_path / "good.png", "red")
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.txt.png").write_text("just text")
    good = (tmp_path / "good.png").read_bytes()
    (tmp_path / "truncated.png").write_bytes(good[: len(good) // 2])
    loaded = {x.item.source.split("/")[-1]: x for x in FolderCatalogue(tmp_path).load(range(4))}
    assert loaded["good.png"].image is not None
    assert "empty file" in loaded["empty.png"].error
    assert "not a readable image" in loaded["notes.txt.png"].error
    assert loaded["truncated.png"].image is None and loaded["truncated.png"].error


def test_decode_refuses_huge_images():
    import io

    buffer = io.BytesIO()
    Image.new("L", (20000, 3000)).save(buffer, "PNG")
    with pytest.raises(ValueError, match="too large"):
        decode_image(buffer.getvalue(), "huge.png")


def test_a_bad_metadata_line_is_skipped_and_named(tmp_path):
    _write_png(tmp_path / "x.png", "green")
    _write_png(tmp_path / "y.png", "red")
    rows = ["{not json", json.dumps({"file": "y.png", "color": "red"})]
    (tmp_path / "metadata.jsonl").write_text("\n".join(rows) + "\n")
    catalogue = FolderCatalogue(tmp_path)
    assert [i.id for i in catalogue.items] == ["y.png"]
    assert "1 malformed rows skipped (line 1: not valid JSON)" in catalogue.problems.lines()
