"""Large-catalogue features of SearchIndex: streamed builds, IVF-PQ / HNSW settings, rerank,
memory-mapped loading and GPU indexes."""

import faiss
import numpy as np
import pytest

from retrieval.catalogues import CatalogueRef, FmnistColorCatalogue, Item
from retrieval.index import SCRATCH_VECTORS, VECTORS_FILE, Manifest, SearchIndex, faiss_tools
from retrieval.indexing.local import build_index


def _clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    """(n, dim) unit vectors around 20 centres: a gallery shape like the real one."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, dim))
    vectors = centres[rng.integers(20, size=n)] + 0.35 * rng.standard_normal((n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def _index(vectors: np.ndarray, factory: str) -> SearchIndex:
    items = [Item(f"item-{i}", {"parity": str(i % 2)}) for i in range(len(vectors))]
    index = faiss_tools.index_vectors(vectors, factory)
    manifest = Manifest(
        model_id="synthetic",
        model_fingerprint="x",
        dim=vectors.shape[1],
        factory=factory,
        catalogue=CatalogueRef(source="synthetic"),
        catalogue_fingerprint="x",
        count=len(items),
        search_defaults=faiss_tools.default_settings(index),
    )
    return SearchIndex(index, items, vectors, manifest)


def _exact(vectors, query, k, allowed=None):
    scores = vectors @ query
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
    return list(np.argsort(-scores, kind="stable")[:k])


@pytest.fixture(scope="module")
def vectors():
    return _clustered(3_000)


@pytest.fixture(scope="module")
def ivfpq(vectors):
    return _index(vectors, "IVF16,PQ8")


def test_defaults_are_chosen_per_index_type_and_stored(ivfpq, vectors):
    assert ivfpq.manifest.search_defaults == {"nprobe": 16, "rerank": 400}
    assert ivfpq.lossy and ivfpq.settings == {"nprobe": 16, "rerank": 400}
    assert _index(vectors, "HNSW8").settings == {"efSearch": 128}
    assert _index(vectors[:200], "Flat").settings == {}


def test_hnsw_graphs_are_built_with_a_wide_candidate_list(vectors):
    from retrieval.index.faiss_tools import HNSW_EF_CONSTRUCTION, new_faiss_index

    index = faiss.downcast_index(new_faiss_index(vectors.shape[1], "HNSW8"))
    assert index.hnsw.efConstruction == HNSW_EF_CONSTRUCTION == 200


def test_full_probe_and_full_rerank_give_the_exact_ranking(ivfpq, vectors):
    for query in vectors[[3, 1_500, 2_999]]:
        hits = ivfpq.search(query, k=10, nprobe=16, rerank=len(vectors))[0]
        assert [h.position for h in hits] == _exact(vectors, query, 10)
        assert hits[0].score == pytest.approx(1.0, abs=1e-5)  # rerank scores are exact


def test_rerank_recovers_what_pq_codes_lose(ivfpq, vectors):
    queries = _clustered(60, seed=1)

    def recall(**settings):
        return np.mean(
            [
                len(
                    {h.position for h in ivfpq.search(q, 10, **settings)[0]}
                    & set(_exact(vectors, q, 10))
                )
                / 10
                for q in queries
            ]
        )

    codes_only, reranked = recall(rerank=0), recall(rerank=200)
    assert reranked >= 0.95 and reranked > codes_only + 0.1, (codes_only, reranked)


def test_nprobe_changes_what_is_scanned(vectors):
    index = _index(vectors, "IVF64,Flat")
    query = _clustered(1, seed=2)[0]
    exact = _exact(vectors, query, 10)
    assert [h.position for h in index.search(query, 10, nprobe=64)[0]] == exact
    one = [h.position for h in index.search(query, 10, nprobe=1)[0]]
    assert index.configure(nprobe=1).settings["nprobe"] == 1
    assert [h.position for h in index.search(query, 10)[0]] == one


def test_ef_search_reaches_the_exact_ranking_on_hnsw(vectors):
    index = _index(vectors, "HNSW8")
    for query in _clustered(5, seed=3):
        assert [h.position for h in index.search(query, 10, ef_search=3_000)[0]] == _exact(
            vectors, query, 10
        )


def test_settings_that_do_not_apply_are_refused(vectors):
    flat = _index(vectors[:100], "Flat")
    with pytest.raises(ValueError, match="--nprobe applies to IVF indexes; this index is 'Flat'"):
        flat.search(vectors[0], nprobe=8)
    with pytest.raises(ValueError, match="--ef-search applies to HNSW"):
        flat.configure(ef_search=32)
    with pytest.raises(ValueError, match="positive"):
        _index(vectors, "IVF16,Flat").configure(nprobe=0)


@pytest.mark.parametrize("factory", ["IVF16,PQ8", "HNSW8", "PCA16,IVF16,PQ8"])
def test_filters_and_exclusions_hold_on_approximate_indexes(factory, vectors):
    index = _index(vectors, factory)
    query = vectors[10]
    allowed = np.zeros(len(vectors), bool)
    allowed[::97] = True  # 31 rows, most of them in lists that are not probed
    settings = {"nprobe": 1} if "IVF" in factory else {}
    hits = index.search(query, 10, allowed=allowed, **settings)[0]
    assert len(hits) == 10 and all(allowed[h.position] for h in hits)
    assert [h.position for h in hits] == _exact(vectors, query, 10, allowed)
    excluded = [f"item-{p}" for p in _exact(vectors, query, 5)]
    shown = index.search(query, 10, exclude=excluded, rerank=len(vectors))[0]
    assert not {h.item.id for h in shown} & set(excluded) and len(shown) == 10


def test_a_streamed_build_writes_vectors_to_disk_and_save_moves_them(tiny_encoder, tmp_path):
    catalogue = FmnistColorCatalogue("test", limit=40)
    in_ram = build_index(catalogue, tiny_encoder, progress=False)
    scratch = tmp_path / "idx" / SCRATCH_VECTORS
    streamed = build_index(
        catalogue, tiny_encoder, "IVF2,Flat", batch_size=16, progress=False, vectors_path=scratch
    )
    assert isinstance(streamed.vectors, np.memmap) and scratch.exists()
    np.testing.assert_allclose(np.asarray(streamed.vectors), in_ram.vectors, atol=1e-6)
    streamed.save(tmp_path / "idx")
    assert not scratch.exists() and (tmp_path / "idx" / VECTORS_FILE).exists()
    loaded = SearchIndex.load(tmp_path / "idx", tiny_encoder, mmap=True)
    np.testing.assert_allclose(np.asarray(loaded.vectors), in_ram.vectors, atol=1e-6)
    assert loaded.manifest.search_defaults == {"nprobe": 2}


def test_saving_over_a_memory_mapped_index_keeps_it_readable(ivfpq, vectors, tmp_path):
    ivfpq.save(tmp_path / "idx")
    mapped = SearchIndex.load(tmp_path / "idx", mmap=True)
    assert mapped.notes == []
    before = [h.position for h in mapped.search(vectors[7], 10)[0]]
    mapped.save(tmp_path / "idx")  # files are replaced, not rewritten under the mapping
    assert [h.position for h in mapped.search(vectors[7], 10)[0]] == before
    again = SearchIndex.load(tmp_path / "idx", mmap=False)
    assert [h.position for h in again.search(vectors[7], 10)[0]] == before


@pytest.mark.parametrize("factory", ["Flat", "IVF16,PQ8", "HNSW8"])
def test_memory_mapped_loading_answers_like_a_read_index(factory, vectors, tmp_path):
    _index(vectors, factory).save(tmp_path / "idx")
    mapped = SearchIndex.load(tmp_path / "idx", mmap=True)
    read = SearchIndex.load(tmp_path / "idx", mmap=False)
    assert mapped.notes == []
    for query in vectors[[0, 99]]:
        assert [h.position for h in mapped.search(query, 10)[0]] == [
            h.position for h in read.search(query, 10)[0]
        ]


def test_an_index_that_cannot_be_mapped_is_read_with_a_note(ivfpq, tmp_path, monkeypatch, caplog):
    ivfpq.save(tmp_path / "idx")
    original = faiss.read_index

    def no_mmap(path, flags=0):
        if flags:
            raise RuntimeError("Error: mmap not supported here")
        return original(path)

    monkeypatch.setattr(faiss, "read_index", no_mmap)
    loaded = SearchIndex.load(tmp_path / "idx", mmap=True)
    assert len(loaded) == len(ivfpq) and len(loaded.notes) == 1
    assert "could not be memory-mapped (Error: mmap not supported here)" in loaded.notes[0]
    assert "loaded into RAM" in caplog.text  # warned, whatever handlers the logger has


@pytest.mark.skipif(not faiss_tools.gpu_available(), reason="needs faiss-gpu and a CUDA device")
@pytest.mark.parametrize("factory", ["Flat", "IVF16,PQ8", "IVF64,PQ48"])
def test_gpu_indexes_answer_like_the_cpu(factory):
    vectors = _clustered(4_000, dim=384)
    index = _index(vectors, factory)
    assert index._on_gpu and index.notes == []
    queries = _clustered(20, dim=384, seed=5)
    for query in queries:
        exact = _exact(vectors, query, 10)
        found = [h.position for h in index.search(query, 10, rerank=len(vectors))[0]]
        assert len(set(found) & set(exact)) >= 9
    allowed = np.zeros(len(vectors), bool)
    allowed[::50] = True
    hits = index.search(queries[0], 10, allowed=allowed)[0]
    assert len(hits) == 10 and all(allowed[h.position] for h in hits)
