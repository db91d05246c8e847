import hashlib

import numpy as np
import pytest

from retrieval.catalogues import CatalogueRef, FmnistColorCatalogue, FmnistVariantsCatalogue
from retrieval.catalogues.fmnist_vocab import CATEGORIES, COLORS, PATTERNS, caption
from retrieval.catalogues.rendered import parse_count


@pytest.fixture(scope="module")
def variants():
    return FmnistVariantsCatalogue(100_000)


def test_sizes_variants_and_truncation(variants):
    assert len(variants) == 100_000 and len(variants.items) == 100_000
    assert variants.variants == 2 and len(variants.labels) == 70_000
    assert variants.items[-1].id == "train-29999-v1"
    assert variants.items[69_999].id == "test-09999"
    assert variants.items[70_000].id == "train-00000-v1"
    assert variants.fingerprint() == "fmnist-color-variants-seed0-64px-n100000"
    with pytest.raises(IndexError):
        variants.items[100_000]


def test_variant_zero_is_the_fmnist_color_catalogue(variants):
    test, train = FmnistColorCatalogue("test"), FmnistColorCatalogue("train")
    for i in (0, 7, 9_999):
        position = variants.index_of(f"test-{i:05d}")
        assert position == 60_000 + i
        assert variants.items[position] == test.items[i]
        assert np.array_equal(variants.render([position]), test.render([i]))
    for i in (0, 59_999):
        assert variants.items[i] == train.items[i]
    assert variants.load([60_000])[0].content_hash == test.load([0])[0].content_hash


def test_later_variants_recolour_the_same_garments(variants):
    first = [variants.items[i] for i in range(1_000)]
    second = [variants.items[70_000 + i] for i in range(1_000)]
    assert all(a.attributes["category"] == b.attributes["category"] for a, b in zip(first, second))
    changed = sum(a.attributes["color"] != b.attributes["color"] for a, b in zip(first, second))
    assert 850 < changed < 970  # 11 in 12 draw another of the 12 colours
    assert second[5].id == "train-00005-v1" and second[5].source == "fashion-mnist:train:5:v1"
    grey = variants.garments[variants.garment_of(np.array([5, 70_005]))]
    assert np.array_equal(grey[0], grey[1])


def test_items_are_captioned_and_deterministic(variants):
    again = FmnistVariantsCatalogue(100_000)
    other_seed = FmnistVariantsCatalogue(100_000, seed=1)
    rows = [0, 123, 70_001, 99_999]
    assert [again.items[i] for i in rows] == [variants.items[i] for i in rows]
    assert [other_seed.items[i] for i in rows] != [variants.items[i] for i in rows]
    for item in (variants.items[i] for i in rows):
        a = item.attributes
        assert a["category"] in CATEGORIES and a["color"] in COLORS and a["pattern"] in PATTERNS
        assert item.caption == caption(**a)


def test_load_renders_a_batch_with_content_hashes(variants):
    loaded = variants.load([70_000, 70_001, 5])
    assert [b.item.id for b in loaded] == ["train-00000-v1", "train-00001-v1", "train-00005"]
    for b in loaded:
        assert b.image.shape == (64, 64, 3) and b.image.dtype == np.uint8
        assert b.content_hash == hashlib.sha256(b.image.tobytes()).hexdigest()
    batches = list(FmnistVariantsCatalogue(130).batches(64))
    assert [len(b) for b in batches] == [64, 64, 2] and batches[-1][-1].item.id == "train-00129"
    across = variants.load(range(69_998, 70_002))  # the boundary between variants 0 and 1
    assert [b.item.id for b in across] == [
        "test-09998",
        "test-09999",
        "train-00000-v1",
        "train-00001-v1",
    ]


def test_ids_round_trip_and_unknown_ids_are_refused(variants):
    for position in (0, 59_999, 60_000, 70_000, 99_999):
        assert variants.index_of(variants.items[position].id) == position
    for bad in ("train-00000-v0", "train-30000-v1", "test-10000", "shoe-1", "train-00000-v2"):
        with pytest.raises(KeyError):
            variants.index_of(bad)


def test_open_catalogue_and_counts():
    catalogue = CatalogueRef.parse("fmnist-color-variants:1k").open()
    assert isinstance(catalogue, FmnistVariantsCatalogue) and len(catalogue) == 1_000
    assert len(CatalogueRef.parse("fmnist-color-variants").open()) == 70_000
    assert parse_count("1M") == 1_000_000 and parse_count("100_000") == 100_000
    for bad in ("lots", "0", "-5"):
        with pytest.raises(ValueError, match="item count"):
            parse_count(bad)
