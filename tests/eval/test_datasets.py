"""Dataset loaders: Fashion IQ, CIRR and Shoes files parsed into exact Triplet records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.datasets import (
    Triplet,
    cirr_image_paths,
    fashion_iq_gallery,
    load_cirr,
    load_fashion_iq,
    load_shoes,
    shoes_split,
)

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "fashion-iq"


def write_json(path: Path, data: object) -> Path:
    """Write `data` as JSON at `path`, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=4), encoding="utf-8")
    return path


# ---- Fashion IQ ----


def fiq_entry(target: str, candidate: str, *captions: str) -> dict:
    return {"target": target, "candidate": candidate, "captions": list(captions)}


def test_fashion_iq_parses_exact_records_in_category_order(tmp_path):
    write_json(
        tmp_path / "captions" / "cap.dress.val.json",
        [fiq_entry("B001", "B002", "is blue", "has long sleeves")],
    )
    write_json(
        tmp_path / "captions" / "cap.toptee.val.json",
        [fiq_entry("B003", "B004", "is red", "is shorter"), fiq_entry("B005", "B006", "a", "b")],
    )
    got = load_fashion_iq(tmp_path, "val", categories=("toptee", "dress"))
    assert got == [
        Triplet("B004", "B003", ("is red", "is shorter"), category="toptee"),
        Triplet("B006", "B005", ("a", "b"), category="toptee"),
        Triplet("B002", "B001", ("is blue", "has long sleeves"), category="dress"),
    ]


def test_fashion_iq_reads_all_three_categories_by_default(tmp_path):
    for category in ("dress", "shirt", "toptee"):
        write_json(
            tmp_path / "captions" / f"cap.{category}.val.json",
            [fiq_entry(f"{category}-t", f"{category}-c", "x", "y")],
        )
    got = load_fashion_iq(tmp_path)
    assert [t.category for t in got] == ["dress", "shirt", "toptee"]
    assert [t.target for t in got] == ["dress-t", "shirt-t", "toptee-t"]


def test_fashion_iq_accepts_a_single_category_string(tmp_path):
    write_json(tmp_path / "captions" / "cap.shirt.val.json", [fiq_entry("T", "C", "x", "y")])
    assert load_fashion_iq(tmp_path, categories="shirt") == [
        Triplet("C", "T", ("x", "y"), category="shirt")
    ]


def test_fashion_iq_strips_captions_and_drops_empty_ones(tmp_path):
    write_json(
        tmp_path / "captions" / "cap.shirt.val.json",
        [fiq_entry("T1", "C1", "  is grey \n", ""), fiq_entry("T2", "C2", "   ", "\t")],
    )
    got = load_fashion_iq(tmp_path, categories=("shirt",))
    assert got[0].captions == ("is grey",)
    assert got[1].captions == ()


def test_fashion_iq_test_split_missing_target_gives_none(tmp_path):
    write_json(
        tmp_path / "captions" / "cap.dress.test.json",
        [{"candidate": "C1", "captions": ["is black", "no sleeves"]}, fiq_entry("T2", "C2", "x")],
    )
    got = load_fashion_iq(tmp_path, "test", categories=("dress",))
    assert got == [
        Triplet("C1", None, ("is black", "no sleeves"), category="dress"),
        Triplet("C2", "T2", ("x",), category="dress"),
    ]


def test_fashion_iq_val_split_missing_target_is_an_error_naming_file_and_entry(tmp_path):
    entries = [fiq_entry("T", "C", "x", "y")] * 3 + [{"candidate": "C", "captions": ["x"]}]
    write_json(tmp_path / "captions" / "cap.dress.val.json", entries)
    with pytest.raises(ValueError) as info:
        load_fashion_iq(tmp_path, categories=("dress",))
    message = str(info.value)
    assert "cap.dress.val.json: entry 3 has no 'target' field" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"target": "T", "captions": ["x"]}, "entry 0 has no 'candidate' field"),
        ({"target": "T", "candidate": "C"}, "entry 0 has no 'captions' field"),
        ({"target": "T", "candidate": "C", "captions": "x"}, "'captions' field must be"),
        ({"target": "T", "candidate": 7, "captions": ["x"]}, "int 'candidate' field"),
        (["T", "C"], "entry 0 is a list, not an object"),
    ],
)
def test_fashion_iq_malformed_entries_raise_value_error(tmp_path, entry, expected):
    write_json(tmp_path / "captions" / "cap.dress.val.json", [entry])
    with pytest.raises(ValueError, match="cap.dress.val.json") as info:
        load_fashion_iq(tmp_path, categories=("dress",))
    assert expected in str(info.value)


def test_fashion_iq_bad_json_raises_value_error_naming_the_file(tmp_path):
    path = tmp_path / "captions" / "cap.dress.val.json"
    path.parent.mkdir()
    path.write_text('[{"target": "T", "candidate": ', encoding="utf-8")
    with pytest.raises(ValueError, match=r"cap\.dress\.val\.json: not valid JSON") as info:
        load_fashion_iq(tmp_path, categories=("dress",))
    assert "\n" not in str(info.value)


def test_fashion_iq_top_level_object_raises_value_error(tmp_path):
    write_json(tmp_path / "captions" / "cap.dress.val.json", {"target": "T"})
    with pytest.raises(ValueError, match="expected a JSON list at the top level, found dict"):
        load_fashion_iq(tmp_path, categories=("dress",))


def test_fashion_iq_missing_file_raises_file_not_found_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"cap\.shirt\.val\.json: file not found") as info:
        load_fashion_iq(tmp_path, categories=("shirt",))
    assert "\n" not in str(info.value)


def test_fashion_iq_gallery_reads_image_names(tmp_path):
    write_json(tmp_path / "image_splits" / "split.toptee.val.json", ["B01", "B02", "B03"])
    assert fashion_iq_gallery(tmp_path, "toptee", "val") == ["B01", "B02", "B03"]


def test_fashion_iq_gallery_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"split\.dress\.val\.json: file not found"):
        fashion_iq_gallery(tmp_path, "dress", "val")
    write_json(tmp_path / "image_splits" / "split.dress.val.json", ["B01", 2])
    with pytest.raises(ValueError, match=r"split\.dress\.val\.json must be a JSON list of strings"):
        fashion_iq_gallery(tmp_path, "dress", "val")


@pytest.mark.skipif(not REAL.exists(), reason="real Fashion IQ files not in shared/data/fashion-iq")
def test_real_fashion_iq_val_files_load():
    triplets = load_fashion_iq(REAL, "val")
    counts = {c: sum(t.category == c for t in triplets) for c in ("dress", "shirt", "toptee")}
    assert counts == {"dress": 2017, "shirt": 2038, "toptee": 1961}
    assert all(t.target and t.reference and t.subset == () and t.pair_id == "" for t in triplets)
    assert all(1 <= len(t.captions) <= 2 for t in triplets)
    assert all(c == c.strip() and c for t in triplets for c in t.captions)
    assert triplets[0] == Triplet(
        "B005X4PL1G",
        "B0084Y8XIU",
        ("is shiny and silver with shorter sleeves", "fit and flare"),
        category="dress",
    )
    for category in ("dress", "shirt", "toptee"):
        gallery = set(fashion_iq_gallery(REAL, category, "val"))
        pairs = [t for t in triplets if t.category == category]
        assert all(t.target in gallery and t.reference in gallery for t in pairs)


# ---- CIRR ----


def cirr_entry(pairid: int, reference: str, target: str | None, caption: str) -> dict:
    entry = {
        "pairid": pairid,
        "reference": reference,
        "caption": caption,
        "img_set": {"id": 1, "members": [reference, "test1-83-0-img1", "test1-9-0-img0"]},
    }
    if target is not None:
        entry["target_hard"] = target
        entry["target_soft"] = {target: 1.0}
    return entry


def test_cirr_parses_exact_records(tmp_path):
    write_json(
        tmp_path / "captions" / "cap.rc2.val.json",
        [cirr_entry(12063, "dev-147-1-img1", "dev-83-0-img1", "  remove all but one dog ")],
    )
    assert load_cirr(tmp_path, "val") == [
        Triplet(
            "dev-147-1-img1",
            "dev-83-0-img1",
            ("remove all but one dog",),
            subset=("dev-147-1-img1", "test1-83-0-img1", "test1-9-0-img0"),
            pair_id="12063",
        )
    ]


def test_cirr_test1_split_has_no_targets(tmp_path):
    write_json(
        tmp_path / "captions" / "cap.rc2.test1.json",
        [cirr_entry(1, "test1-147-1-img1", None, "make it night")],
    )
    (triplet,) = load_cirr(tmp_path, "test1")
    assert triplet.target is None
    assert triplet.pair_id == "1"
    assert triplet.captions == ("make it night",)
    assert triplet.subset[0] == "test1-147-1-img1"


def test_cirr_without_img_set_has_empty_subset(tmp_path):
    entry = cirr_entry(5, "a", "b", "c")
    del entry["img_set"]
    write_json(tmp_path / "captions" / "cap.rc2.train.json", [entry])
    assert load_cirr(tmp_path, "train") == [Triplet("a", "b", ("c",), pair_id="5")]


@pytest.mark.parametrize(
    ("drop", "expected"),
    [
        ("pairid", "has no 'pairid' field"),
        ("reference", "has no 'reference' field"),
        ("caption", "has no 'caption' field"),
        ("target_hard", "has no 'target_hard' field"),
    ],
)
def test_cirr_missing_fields_raise_value_error(tmp_path, drop, expected):
    entry = cirr_entry(5, "a", "b", "c")
    del entry[drop]
    write_json(tmp_path / "captions" / "cap.rc2.val.json", [entry])
    with pytest.raises(ValueError, match=r"cap\.rc2\.val\.json: entry 0 ") as info:
        load_cirr(tmp_path, "val")
    assert expected in str(info.value)


def test_cirr_bad_json_and_missing_file_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"cap\.rc2\.val\.json: file not found"):
        load_cirr(tmp_path, "val")
    path = tmp_path / "captions" / "cap.rc2.val.json"
    path.parent.mkdir()
    path.write_text("[{]", encoding="utf-8")
    with pytest.raises(ValueError, match=r"cap\.rc2\.val\.json: not valid JSON"):
        load_cirr(tmp_path, "val")


def test_cirr_image_paths_reads_name_to_path_map(tmp_path):
    paths = {"dev-245-1-img1": "./dev/dev-245-1-img1.png", "dev-0-0-img0": "./dev/dev-0-0-img0.png"}
    write_json(tmp_path / "image_splits" / "split.rc2.val.json", paths)
    assert cirr_image_paths(tmp_path, "val") == paths


def test_cirr_image_paths_rejects_a_list_and_names_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"split\.rc2\.val\.json: file not found"):
        cirr_image_paths(tmp_path, "val")
    write_json(tmp_path / "image_splits" / "split.rc2.val.json", ["dev-245-1-img1"])
    with pytest.raises(ValueError, match=r"split\.rc2\.val\.json: expected a JSON object"):
        cirr_image_paths(tmp_path, "val")


# ---- Shoes ----


def shoes_entry(target: str, reference: str, caption: str) -> dict:
    return {"ImageName": target, "ReferenceImageName": reference, "RelativeCaption": caption}


@pytest.fixture
def shoes_root(tmp_path):
    write_json(
        tmp_path / "relative_captions_shoes.json",
        [
            shoes_entry("img_womens_clogs_851.jpg", "img_womens_clogs_512.jpg", " is textured "),
            shoes_entry("img_mens_boots_3.jpg", "img_mens_boots_9.jpg", "is taller"),
            shoes_entry("img_womens_pumps_7.jpg", "img_womens_pumps_1.jpg", "has a red sole"),
        ],
    )
    (tmp_path / "train_im_names.txt").write_text(
        "img_mens_boots_3.jpg\nimg_womens_pumps_7.jpg\n", encoding="utf-8"
    )
    (tmp_path / "eval_im_names.txt").write_text(
        "img_womens_clogs_851.jpg\r\n\r\n  img_womens_clogs_512.jpg  \r\n", encoding="utf-8"
    )
    return tmp_path


def test_shoes_parses_exact_records(shoes_root):
    assert load_shoes(shoes_root) == [
        Triplet("img_womens_clogs_512.jpg", "img_womens_clogs_851.jpg", ("is textured",)),
        Triplet("img_mens_boots_9.jpg", "img_mens_boots_3.jpg", ("is taller",)),
        Triplet("img_womens_pumps_1.jpg", "img_womens_pumps_7.jpg", ("has a red sole",)),
    ]


def test_shoes_split_reads_names_skipping_blank_lines(shoes_root):
    assert shoes_split(shoes_root, "train") == ["img_mens_boots_3.jpg", "img_womens_pumps_7.jpg"]
    assert shoes_split(shoes_root, "eval") == [
        "img_womens_clogs_851.jpg",
        "img_womens_clogs_512.jpg",
    ]


def test_shoes_split_filtering_keeps_triplets_whose_target_is_in_the_split(shoes_root):
    assert [t.target for t in load_shoes(shoes_root, "train")] == [
        "img_mens_boots_3.jpg",
        "img_womens_pumps_7.jpg",
    ]
    assert load_shoes(shoes_root, "eval") == [
        Triplet("img_womens_clogs_512.jpg", "img_womens_clogs_851.jpg", ("is textured",))
    ]


def test_shoes_unknown_split_raises_value_error(shoes_root):
    with pytest.raises(ValueError, match="unknown Shoes split 'val'; use 'train' or 'eval'"):
        load_shoes(shoes_root, "val")


def test_shoes_missing_files_raise_file_not_found_naming_them(shoes_root, tmp_path):
    (shoes_root / "eval_im_names.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"eval_im_names\.txt: file not found"):
        load_shoes(shoes_root, "eval")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=r"relative_captions_shoes\.json: file not found"):
        load_shoes(empty)


def test_shoes_bad_json_and_missing_field_raise_value_error(tmp_path):
    path = tmp_path / "relative_captions_shoes.json"
    path.write_text('[{"ImageName": "a.jpg",}]', encoding="utf-8")
    with pytest.raises(ValueError, match=r"relative_captions_shoes\.json: not valid JSON"):
        load_shoes(tmp_path)
    write_json(path, [{"ImageName": "a.jpg", "RelativeCaption": "is red"}])
    with pytest.raises(ValueError, match="entry 0 has no 'ReferenceImageName' field"):
        load_shoes(tmp_path)
