import numpy as np
import pytest

from retrieval.indexing import embedding_cache
from retrieval.indexing.embedding_cache import EmbeddingCache


def vectors_for(count: int, dim: int = 4, offset: int = 0) -> np.ndarray:
    return np.arange(offset, offset + count * dim, dtype=np.float32).reshape(count, dim)


def test_keys_by_model_and_content(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    vectors = vectors_for(3, 2)
    hashes = ["ab" * 32, "cd" * 32, "not-hex content key"]
    cache.put_many("model-a", hashes, vectors)
    found = cache.get_many("model-a", [*hashes, "ef" * 32])
    np.testing.assert_array_equal(np.stack(found[:3]), vectors)
    assert found[3] is None
    assert cache.get_many("model-b", hashes[:1]) == [None]  # another model's vectors differ
    cache.close()
    reopened = EmbeddingCache(tmp_path / "cache")
    np.testing.assert_array_equal(reopened.get_many("model-a", hashes[1:2])[0], vectors[1])


def test_vectors_of_other_batches_are_found_one_by_one(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    first, second = vectors_for(3), vectors_for(2, offset=100)
    cache.put_many("m", ["a", "b", "c"], first)
    cache.put_many("m", ["d", "e"], second)
    # a batch that mixes both records, in another order, with a miss
    found = cache.get_many("m", ["e", "x", "a", "c"])
    np.testing.assert_array_equal(found[0], second[1])
    assert found[1] is None
    np.testing.assert_array_equal(found[2], first[0])
    np.testing.assert_array_equal(found[3], first[2])
    # a later write is found by its own batch at once, and by any batch from a new cache object
    cache.put_many("m", ["x"], vectors_for(1, offset=7))
    np.testing.assert_array_equal(cache.get_many("m", ["x"])[0], vectors_for(1, offset=7)[0])
    other = EmbeddingCache(tmp_path / "cache")
    assert [v is not None for v in other.get_many("m", ["x", "b", "d", "zz"])] == [
        True,
        True,
        True,
        False,
    ]
    assert len(other) == 6


def test_large_writes_are_split_into_records(tmp_path, monkeypatch):
    monkeypatch.setattr(embedding_cache, "RECORD_LIMIT", 4)
    cache = EmbeddingCache(tmp_path / "cache")
    hashes = [f"{i:04x}" for i in range(10)]
    vectors = vectors_for(10)
    cache.put_many("m", hashes, vectors)
    assert sum(1 for key in cache.store.iterkeys() if "|vectors|" in key) == 3
    np.testing.assert_array_equal(np.stack(cache.get_many("m", hashes)), vectors)
    assert len(cache) == 10


def test_a_record_that_lost_its_vectors_counts_as_missing(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    cache.put_many("m", ["a", "b"], vectors_for(2))
    cache.put_many("m", ["c"], vectors_for(1, offset=50))
    for key in list(cache.store.iterkeys()):
        if key.startswith("m|vectors|") and cache.store[key] == vectors_for(2).tobytes():
            del cache.store[key]  # as if evicted by the size limit
    fresh = EmbeddingCache(tmp_path / "cache")
    assert [v is None for v in fresh.get_many("m", ["a", "c", "b"])] == [True, False, True]


def test_mismatched_write_is_refused(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    with pytest.raises(ValueError, match="3 hashes but 2 vectors"):
        cache.put_many("m", ["a", "b", "c"], vectors_for(2))


def test_a_damaged_cache_is_moved_aside_and_rebuilt(tmp_path, caplog):
    import numpy as np

    folder = tmp_path / "embeddings"
    folder.mkdir()
    (folder / "cache.db").write_bytes(b"this is not sqlite" * 100)
    cache = embedding_cache.EmbeddingCache(folder)
    cache.put_many("m", ["h1"], np.ones((1, 4), np.float32))
    assert cache.get_many("m", ["h1"])[0].tolist() == [1, 1, 1, 1]
    cache.close()
    assert [p.name.startswith("embeddings.damaged-") for p in tmp_path.iterdir()].count(True) == 1
    assert "was damaged" in caplog.text
