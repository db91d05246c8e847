import threading

import numpy as np
import pytest
from PIL import Image

from retrieval.catalogues import FmnistColorCatalogue, FolderCatalogue
from retrieval.index import IndexMismatchError, SearchIndex
from retrieval.indexing.embedding_cache import EmbeddingCache
from retrieval.indexing.local import build_index


@pytest.fixture
def folder_catalogue(tmp_path):
    root = tmp_path / "shop"
    root.mkdir()
    colors = ["red", "blue", "green", "yellow", "black", "white"]
    for i, color in enumerate(colors):
        Image.new("RGB", (48, 48), color).save(root / f"{i}-{color}.png")
    (root / "zero.jpg").write_bytes(b"")
    (root / "readme.png").write_text("not an image")
    good = (root / "0-red.png").read_bytes()
    (root / "corrupt.png").write_bytes(good[:40])
    return FolderCatalogue(root)


def test_build_skips_and_reports_bad_files(folder_catalogue, tiny_encoder, tmp_path):
    index = build_index(
        folder_catalogue, tiny_encoder, cache=EmbeddingCache(tmp_path / "c"), progress=False
    )
    assert len(index) == 6
    skipped = {s.source.split("/")[-1]: s.reason for s in index.manifest.skipped}
    assert set(skipped) == {"zero.jpg", "readme.png", "corrupt.png"}
    assert "empty file" in skipped["zero.jpg"]
    assert all(skipped.values())


def test_cache_makes_a_rebuild_encode_nothing(folder_catalogue, tiny_encoder, tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    first = build_index(folder_catalogue, tiny_encoder, cache=cache, progress=False)
    second = build_index(folder_catalogue, tiny_encoder, cache=cache, progress=False)
    assert first.manifest.encoded == 6
    assert second.manifest.encoded == 0
    np.testing.assert_array_equal(np.asarray(first.vectors), np.asarray(second.vectors))


def test_interrupted_build_resumes_from_the_cache(tiny_encoder, tmp_path):
    catalogue = FmnistColorCatalogue("test", limit=40)
    cache = EmbeddingCache(tmp_path / "cache")
    calls, lock = {"n": 0}, threading.Lock()
    original = tiny_encoder.encode_image_batch

    def crash_on_second_batch(images):
        with lock:
            calls["n"] += 1
            crash = calls["n"] == 2
        if crash:
            raise KeyboardInterrupt
        return original(images)

    tiny_encoder.encode_image_batch = crash_on_second_batch
    try:
        with pytest.raises(KeyboardInterrupt):
            build_index(catalogue, tiny_encoder, cache=cache, batch_size=16, progress=False)
    finally:
        del tiny_encoder.encode_image_batch
    cached = len(cache)  # batches finished before the crash (others ran beside it)
    assert 16 <= cached < 40
    resumed = build_index(catalogue, tiny_encoder, cache=cache, batch_size=16, progress=False)
    assert resumed.manifest.encoded == 40 - cached


def test_save_load_round_trip_and_search(folder_catalogue, tiny_encoder, tmp_path):
    index = build_index(folder_catalogue, tiny_encoder, progress=False)
    index.save(tmp_path / "idx")
    loaded = SearchIndex.load(tmp_path / "idx", tiny_encoder)
    assert [i.id for i in loaded.items] == [i.id for i in index.items]
    query = loaded.vector(loaded.items[2].id)
    hits = loaded.search(query, k=3)[0]
    assert hits[0].item.id == loaded.items[2].id and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert loaded.manifest.catalogue_fingerprint == folder_catalogue.fingerprint()


def test_search_respects_exclusions_and_masks(folder_catalogue, tiny_encoder):
    index = build_index(folder_catalogue, tiny_encoder, progress=False)
    query = index.vector(index.items[0].id)
    hits = index.search(query, k=10, exclude=[index.items[0].id])[0]
    assert len(hits) == 5 and index.items[0].id not in {h.item.id for h in hits}
    allowed = np.zeros(len(index), bool)
    allowed[[1, 3]] = True
    assert {h.item.id for h in index.search(query, k=10, allowed=allowed)[0]} == {
        index.items[1].id,
        index.items[3].id,
    }
    scores = [h.score for h in index.search(query, k=6)[0]]
    assert scores == sorted(scores, reverse=True)


def test_loading_with_another_model_is_refused(folder_catalogue, tiny_encoder, tmp_path):
    index = build_index(folder_catalogue, tiny_encoder, progress=False)
    index.save(tmp_path / "idx")

    class OtherModel:
        model_id, dim, fingerprint = "open_clip:ViT-B-32/openai", 512, "x"

    with pytest.raises(IndexMismatchError, match="rebuild it") as info:
        SearchIndex.load(tmp_path / "idx", OtherModel())
    assert "\n" not in str(info.value)

    class SameIdOtherWeights:
        model_id, dim, fingerprint = tiny_encoder.model_id, tiny_encoder.dim, "retrained"

    with pytest.raises(IndexMismatchError, match="other weights"):
        SearchIndex.load(tmp_path / "idx", SameIdOtherWeights())


@pytest.mark.parametrize("factory", ["Flat", "HNSW16", "IVF4,Flat", "IVF2,PQ8"])
def test_factory_strings(factory, tiny_encoder, tmp_path):
    catalogue = FmnistColorCatalogue("test", limit=300)
    index = build_index(catalogue, tiny_encoder, factory=factory, progress=False)
    assert index.manifest.factory == factory
    hits = index.search(index.vector(catalogue.items[5].id), k=5)[0]
    assert len(hits) == 5


def test_bad_factory_string_is_explained(tiny_encoder):
    catalogue = FmnistColorCatalogue("test", limit=20)
    with pytest.raises(ValueError, match="bad FAISS factory string"):
        build_index(catalogue, tiny_encoder, factory="Nonsense12", progress=False)
