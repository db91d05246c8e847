"""The instance index beside a main index: built by the pipeline, answering, refused when stale."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from retrieval.catalogues import FmnistColorCatalogue
from retrieval.index import IndexMismatchError
from retrieval.indexing.local import build_index
from retrieval.instance.descriptors import (
    GemDescriptorEncoder,
    HeadDescriptorEncoder,
    gem,
    grey_array,
)
from retrieval.instance.head import InstanceHead, InstanceHeadConfig
from retrieval.instance.query import ExpansionSettings
from retrieval.instance.store import build_instance, descriptor_encoder, load_instance

SETTINGS = ExpansionSettings(method="alpha_qe", graph_k=3, truncate=20, seeds=2)


@pytest.fixture()
def gallery(tmp_path, tiny_encoder):
    catalogue = FmnistColorCatalogue("test", limit=40)
    folder = tmp_path / "index"
    build_index(catalogue, tiny_encoder, progress=False).save(folder)
    return catalogue, folder


def test_grey_keeps_luminance_in_every_channel():
    image = np.array([[[255, 0, 0], [0, 0, 255]]], np.uint8)
    np.testing.assert_array_equal(grey_array(image), [[[76, 76, 76], [29, 29, 29]]])


def test_gem_matches_mean_and_max_at_its_limits():
    x = torch.rand(2, 3, 4, 4)
    torch.testing.assert_close(gem(x, p=1.0), x.mean(dim=(2, 3)))
    assert torch.allclose(gem(x, p=200.0), x.amax(dim=(2, 3)), atol=0.05)


def test_other_colours_answers_from_the_instance_index(gallery, tiny_encoder):
    catalogue, folder = gallery
    search = build_instance(folder, catalogue, GemDescriptorEncoder(tiny_encoder), SETTINGS, False)
    first = catalogue.items[0].id
    answer = search.other_colours(first, k=5)
    assert len(answer) == 5 and first not in [i for i, _ in answer]
    scores = [s for _, s in answer]
    assert scores == sorted(scores, reverse=True)
    shown = [i for i, _ in answer[:2]]
    again = search.other_colours(first, k=5, exclude=shown)
    assert not set(shown) & {i for i, _ in again} and len(again) == 5
    with pytest.raises(KeyError):
        search.other_colours("no-such-item")


def test_nearest_and_diffused_answers_agree_on_the_top_item(gallery, tiny_encoder):
    catalogue, folder = gallery
    build_instance(folder, catalogue, GemDescriptorEncoder(tiny_encoder), SETTINGS, False)
    encoder = GemDescriptorEncoder(tiny_encoder)
    plain = load_instance(folder, encoder, ExpansionSettings(method="none"))
    diffused = load_instance(folder, encoder, ExpansionSettings(method="diffusion", seeds=1))
    item = catalogue.items[3].id
    vectors = np.asarray(plain.index.vectors)
    cosines = vectors @ vectors[3]
    cosines[3] = -np.inf
    assert plain.other_colours(item, 1)[0][0] == catalogue.items[int(np.argmax(cosines))].id
    assert diffused.graph is not None and len(diffused.other_colours(item, 4)) == 4


def test_a_stale_instance_index_is_refused(gallery, tiny_encoder, tmp_path):
    catalogue, folder = gallery
    build_instance(folder, catalogue, GemDescriptorEncoder(tiny_encoder), SETTINGS, False)
    loaded = load_instance(folder, GemDescriptorEncoder(tiny_encoder))
    assert len(loaded.index) == 40 and loaded.settings.method == "alpha_qe"
    with pytest.raises(IndexMismatchError, match="rebuild|delete"):
        load_instance(folder, GemDescriptorEncoder(tiny_encoder, p=2.0))
    smaller = FmnistColorCatalogue("test", limit=30)
    build_index(smaller, tiny_encoder, progress=False).save(folder)  # the main index changed
    with pytest.raises(IndexMismatchError, match="another catalogue"):
        load_instance(folder, GemDescriptorEncoder(tiny_encoder))
    with pytest.raises(IndexMismatchError, match="not the one indexed"):
        build_instance(folder, catalogue, GemDescriptorEncoder(tiny_encoder), SETTINGS, False)
    rebuilt = build_instance(folder, smaller, GemDescriptorEncoder(tiny_encoder), SETTINGS, False)
    assert len(rebuilt.index) == 30
    with pytest.raises(FileNotFoundError, match="no instance index"):
        load_instance(tmp_path / "elsewhere", GemDescriptorEncoder(tiny_encoder))


def test_open_instance_search_builds_then_rebuilds_when_stale(tiny_weights, monkeypatch):
    from retrieval.catalogues import CatalogueRef
    from retrieval.indexing.gallery import open_gallery
    from retrieval.instance import store

    gallery = open_gallery(CatalogueRef.parse("fmnist-color"), f"fashion-mini:{tiny_weights}")
    first = store.open_instance_search(gallery, settings=SETTINGS)
    assert first.descriptor.endswith("gem-p3-s3-luma")  # the shipped head is for another tower
    calls = []
    monkeypatch.setattr(store, "build_instance", lambda *a, **k: calls.append(a) or "rebuilt")
    assert store.open_instance_search(gallery).index is not None  # loaded
    monkeypatch.setattr(
        store, "load_instance", lambda *a: (_ for _ in ()).throw(IndexMismatchError("stale"))
    )
    assert store.open_instance_search(gallery) == "rebuilt" and len(calls) == 1


def test_head_descriptor_round_trips_and_is_refused_for_another_tower(tmp_path, tiny_encoder):
    torch.manual_seed(0)
    head = InstanceHead(InstanceHeadConfig(in_channels=8, widths=(8, 8), grid=2, dim=16)).eval()
    path = tmp_path / "head.safetensors"
    head.save(path, {"tower_fingerprint": tiny_encoder.fingerprint})
    encoder = HeadDescriptorEncoder(tiny_encoder, path)
    images = FmnistColorCatalogue("test", limit=4).render(range(4))
    vectors = encoder.encode_images(list(images))
    assert vectors.shape == (4, 16)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(
        HeadDescriptorEncoder(tiny_encoder, path).encode_images(list(images)), vectors
    )
    head.save(path, {"tower_fingerprint": "another-tower"})
    with pytest.raises(ValueError, match="retrain"):
        HeadDescriptorEncoder(tiny_encoder, path)
    assert descriptor_encoder(tiny_encoder).name == "gem"  # the shipped head does not fit


def test_dba_is_switchable_and_searches_the_augmented_vectors(gallery, tiny_encoder):
    from retrieval.instance.expansion import database_augmentation

    catalogue, folder = gallery
    encoder = GemDescriptorEncoder(tiny_encoder)
    build_instance(folder, catalogue, encoder, SETTINGS, False)
    with_dba = load_instance(folder, encoder, ExpansionSettings(method="none", dba=True))
    without = load_instance(folder, encoder, ExpansionSettings(method="none", dba=False))
    vectors = np.asarray(without.index.vectors)
    augmented = database_augmentation(vectors, SETTINGS.dba_k, SETTINGS.alpha)
    for row in (0, 7):
        plain, dba = vectors @ vectors[row], augmented @ vectors[row]
        plain[row] = dba[row] = -np.inf
        item = catalogue.items[row].id
        assert without.other_colours(item, 1)[0][0] == catalogue.items[int(np.argmax(plain))].id
        assert with_dba.other_colours(item, 1)[0][0] == catalogue.items[int(np.argmax(dba))].id
    assert with_dba.describe()["dba"] and not without.describe()["dba"]


def test_gem_descriptors_are_whitened_on_the_catalogues_photos(tmp_path, tiny_encoder):
    import json

    from retrieval.indexing.embedding_cache import EmbeddingCache
    from retrieval.instance.search import SETTINGS_FILE
    from retrieval.instance.store import INSTANCE_DIR
    from retrieval.instance.whitening import pca_whitening

    encoder = GemDescriptorEncoder(tiny_encoder)
    catalogue = FmnistColorCatalogue("test", limit=encoder.dim + 20)  # more photos than dims
    folder = tmp_path / "index"
    build_index(catalogue, tiny_encoder, progress=False).save(folder)
    search = build_instance(folder, catalogue, encoder, SETTINGS, False)
    raw = build_index(catalogue, encoder, cache=EmbeddingCache(tmp_path / "c"), progress=False)
    expected = pca_whitening(np.asarray(raw.vectors)).apply(np.asarray(raw.vectors))
    assert search.whitening == "pca" and search.describe()["whitening"] == "pca"
    np.testing.assert_allclose(np.asarray(search.index.vectors), expected, atol=1e-4)
    loaded = load_instance(folder, encoder)
    np.testing.assert_allclose(np.asarray(loaded.index.vectors), expected, atol=1e-4)
    assert loaded.whitening == "pca" and len(loaded.other_colours(catalogue.items[0].id)) == 10
    # an instance index saved before whitening is stale: it is refused, and so rebuilt
    settings_file = folder / INSTANCE_DIR / SETTINGS_FILE
    info = json.loads(settings_file.read_text())
    settings_file.write_text(json.dumps({k: v for k, v in info.items() if k != "whitening"}))
    with pytest.raises(IndexMismatchError, match="without the whitening"):
        load_instance(folder, encoder)


def test_a_catalogue_with_fewer_photos_than_dimensions_is_not_whitened(tmp_path, tiny_encoder):
    encoder = GemDescriptorEncoder(tiny_encoder)
    catalogue = FmnistColorCatalogue("test", limit=encoder.dim)
    folder = tmp_path / "index"
    build_index(catalogue, tiny_encoder, progress=False).save(folder)
    assert build_instance(folder, catalogue, encoder, SETTINGS, False).whitening is None
    assert load_instance(folder, encoder).whitening is None
