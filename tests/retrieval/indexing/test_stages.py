"""The embedding stages: a rebuild decodes only the photos the cache does not know."""

import numpy as np
from PIL import Image

from retrieval.catalogues import FolderCatalogue
from retrieval.indexing.embedding_cache import EmbeddingCache
from retrieval.indexing.local import build_index
from retrieval.indexing.stages import embed_batch


def _shop(root, colours):
    root.mkdir(exist_ok=True)
    for i, colour in enumerate(colours):
        Image.new("RGB", (40, 40), colour).save(root / f"{i}.png")
    return root


def _counting_loads(monkeypatch) -> list[int]:
    decoded: list[int] = []
    load = FolderCatalogue.load

    def counting(self, indices):
        decoded.extend(indices)
        return load(self, indices)

    monkeypatch.setattr(FolderCatalogue, "load", counting)
    return decoded


def test_a_rebuild_decodes_only_what_changed(tmp_path, tiny_encoder, monkeypatch):
    root = _shop(tmp_path / "shop", ["red", "blue", "green", "black", "white"])
    cache = EmbeddingCache(tmp_path / "cache")
    first = build_index(FolderCatalogue(root), tiny_encoder, cache=cache, progress=False)
    cache.close()
    Image.new("RGB", (40, 40), "yellow").save(root / "1.png")  # one photo replaced
    (root / "bad.png").write_text("not an image")  # one file that is no photo
    decoded = _counting_loads(monkeypatch)
    catalogue = FolderCatalogue(root)
    cache = EmbeddingCache(tmp_path / "cache")  # a new build opens the cache anew
    second = build_index(catalogue, tiny_encoder, cache=cache, progress=False)
    by_name = {item.id: i for i, item in enumerate(catalogue.items)}
    assert sorted(decoded) == sorted([by_name["1.png"], by_name["bad.png"]])
    assert second.manifest.encoded == 1 and len(second) == 5
    assert [s.id for s in second.manifest.skipped] == ["bad.png"]
    same = [first.positions[i] for i in ("0.png", "2.png", "3.png", "4.png")]
    again = [second.positions[i] for i in ("0.png", "2.png", "3.png", "4.png")]
    np.testing.assert_array_equal(first.vectors[same], second.vectors[again])
    fresh = tiny_encoder.encode_images([np.asarray(Image.open(root / "1.png").convert("RGB"))])
    np.testing.assert_allclose(second.vectors[second.positions["1.png"]], fresh[0], atol=1e-5)


def test_a_batch_keeps_catalogue_order_across_cached_and_decoded(tmp_path, tiny_encoder):
    root = _shop(tmp_path / "shop", ["red", "blue", "green", "black"])
    catalogue = FolderCatalogue(root)
    cache = EmbeddingCache(tmp_path / "cache")
    embed_batch(catalogue, tiny_encoder, cache, range(1, 3))  # 1 and 2 cached
    cache.close()
    batch = embed_batch(catalogue, tiny_encoder, EmbeddingCache(tmp_path / "cache"), range(0, 4))
    assert batch.positions == [0, 1, 2, 3] and batch.fresh == 2 and batch.size == 4
    assert [item.id for item in batch.items] == [catalogue.items[p].id for p in range(4)]
    alone = embed_batch(catalogue, tiny_encoder, None, range(0, 4))
    np.testing.assert_allclose(batch.vectors, alone.vectors, atol=1e-5)
