"""CatalogueRef: the command-line form, JSON round trips, old manifest strings, paste-able flags."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from catalogue_fixtures import write_styles_shop

from retrieval.catalogues import CatalogueRef, FmnistColorCatalogue, FmnistVariantsCatalogue
from retrieval.catalogues.split import split
from retrieval.index.store import Manifest, rebuild_command
from ui.cli import build_parser


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    return write_styles_shop(tmp_path_factory.mktemp("refs") / "shop")


def _manifest(catalogue, count: int = 10_000) -> Manifest:
    return Manifest.model_validate(
        {
            "model_id": "fashion-mini",
            "model_fingerprint": "x",
            "dim": 8,
            "factory": "Flat",
            "catalogue": catalogue,
            "catalogue_fingerprint": "y",
            "count": count,
        }
    )


@pytest.mark.parametrize(
    "spec, kind, count",
    [
        ("fmnist-color", FmnistColorCatalogue, 10_000),
        ("fmnist-color:train", FmnistColorCatalogue, 60_000),
        ("fmnist-color:test:96", FmnistColorCatalogue, 96),
        ("fmnist-color-variants:1k", FmnistVariantsCatalogue, 1_000),
    ],
)
def test_built_in_specs_open_their_catalogue(spec, kind, count):
    ref = CatalogueRef.parse(spec)
    catalogue = ref.open()
    assert isinstance(catalogue, kind) and len(catalogue) == count
    assert ref.name == catalogue.name and not ref.is_folder


def test_a_folder_ref_opens_its_part_and_names_its_index_folder(shop, monkeypatch):
    ref = CatalogueRef.parse(str(shop), shop / "styles.csv", "test")
    test = ref.open()
    assert test.name.endswith("[test]") and 0 < len(test) < len(ref.whole().open())
    assert ref.index_dir("fashion-mini").name.startswith("shop-")
    assert ref.index_dir("fashion-mini").name.endswith("-test-fashion-mini")
    monkeypatch.chdir(shop.parent)  # the same folder named relatively: the same index folder
    same = CatalogueRef.parse("shop", (shop / "styles.csv").resolve(), "test")
    assert same.index_dir("fashion-mini") == ref.index_dir("fashion-mini")
    assert CatalogueRef.parse("fmnist-color:test:96").index_dir("m").name == (
        "fmnist-color_test_96-m"
    )
    with pytest.raises(ValueError, match="unknown split 'val'"):
        CatalogueRef.parse(str(shop), part="val")


def test_the_ref_of_an_opened_catalogue_has_its_name_and_round_trips_through_json(shop):
    folder = CatalogueRef.parse(str(shop), shop / "styles.csv").open()
    for catalogue in (
        folder,
        split(folder, "test"),
        FmnistColorCatalogue("test", limit=96),
        FmnistColorCatalogue("train"),
        FmnistVariantsCatalogue(600),
    ):
        ref = CatalogueRef.of(catalogue)
        assert ref.name == catalogue.name
        assert CatalogueRef.model_validate_json(ref.model_dump_json()) == ref
        assert CatalogueRef.read(ref.model_dump(mode="json")) == ref
    assert CatalogueRef.of(split(folder, "test")) == CatalogueRef(
        source=str(shop.resolve()), metadata=str((shop / "styles.csv").resolve()), part="test"
    )
    assert CatalogueRef.of(FmnistColorCatalogue("test", limit=96)).source == "fmnist-color:test:96"


@pytest.mark.parametrize(
    "stored, count, flags",
    [
        ("fmnist-color-test", 10_000, "--catalogue fmnist-color:test"),
        ("fmnist-color-test", 96, "--catalogue fmnist-color:test:96"),
        ("fmnist-color-train", 60_000, "--catalogue fmnist-color:train"),
        ("fmnist-color-variants-100000", 100_000, "--catalogue fmnist-color-variants:100000"),
        ("folder:/shop", 12, "--catalogue /shop"),
        (
            "folder:/my shop|/my shop/styles.csv",
            12,
            "--catalogue '/my shop' --metadata '/my shop/styles.csv'",
        ),
        (
            "folder:/shop|/shop/m.csv[test]",
            3,
            "--catalogue /shop --metadata /shop/m.csv --part test",
        ),
    ],
)
def test_manifests_written_before_refs_are_read(stored, count, flags):
    manifest = _manifest(stored, count)
    assert manifest.catalogue.name == stored
    assert manifest.catalogue.command_line() == flags
    again = Manifest.model_validate_json(manifest.model_dump_json())  # now stored as JSON
    assert again.catalogue == manifest.catalogue and isinstance(
        again.model_dump(mode="json")["catalogue"], dict
    )


def test_the_family_and_display_name():
    shop_test = CatalogueRef.from_name("folder:/a/shop|/a/shop/m.csv[test]")
    assert shop_test.family == "folder:/a/shop|/a/shop/m.csv"
    assert shop_test.display_name == "shop"
    assert CatalogueRef.parse("fmnist-color-variants:100").family == "fmnist-color"
    assert CatalogueRef.from_name("fmnist-color-test").display_name == "fmnist-color-test"
    assert CatalogueRef.read("fmnist-color").family == "fmnist-color"  # old composer records


def test_the_rebuild_hint_of_a_folder_part_pasted_rebuilds_that_part(shop, tmp_path):
    """The hint used to drop --catalogue for a folder's part: pasted, it rebuilt fmnist-color."""
    test_part = split(CatalogueRef.parse(str(shop)).open(), "test")
    manifest = _manifest(test_part.name, len(test_part))  # as manifests were written before
    hint = rebuild_command(tmp_path / "idx", manifest)
    words = shlex.split(hint)
    assert words[:3] == ["circhat", "index", "build"]
    args = build_parser().parse_args(words[1:])
    assert Path(args.catalogue) == shop.resolve() and args.part == "test"
    assert Path(args.metadata) == (shop / "styles.csv").resolve()
    rebuilt = CatalogueRef.parse(args.catalogue, args.metadata, args.part).open()
    assert [i.id for i in rebuilt.items] == [i.id for i in test_part.items]


def test_a_sample_has_no_command_line_and_its_hint_names_no_catalogue():
    sample = CatalogueRef.from_name("fmnist-color-test[:1000]", 1000)
    assert sample.sample == ":1000" and sample.command_line() is None
    assert "--catalogue" not in rebuild_command(Path("idx"), _manifest(sample.name, 1000))


def test_photo_model_cards_store_the_ref_and_old_cards_are_read():
    from retrieval.encoders.photo.model import ModelCard

    fields = {"backbone": "b", "head": {}, "catalogue_fingerprint": "f", "schema": {}, "split": {}}
    old = ModelCard.model_validate({**fields, "catalogue": "folder:/shop|/shop/styles.csv"})
    assert old.catalogue == CatalogueRef(source="/shop", metadata="/shop/styles.csv")
    stored = old.model_dump(mode="json", by_alias=True)["catalogue"]
    assert stored == {
        "source": "/shop",
        "metadata": "/shop/styles.csv",
        "part": None,
        "sample": None,
    }
    assert ModelCard.model_validate({**fields, "catalogue": stored}) == old
