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


def _counting_hashes(monkeypatch) -> list[int]:
    """The sizes of the files read to be hashed (each call: one file's bytes)."""
    from retrieval.indexing import stages

    hashed: list[int] = []
    content_hash = stages.content_hash

    def counting(data: bytes) -> str:
        hashed.append(len(data))
        return content_hash(data)

    monkeypatch.setattr(stages, "content_hash", counting)
    return hashed


def test_a_rebuild_reads_only_the_files_whose_record_changed(tmp_path, tiny_encoder, monkeypatch):
    import os

    root = _shop(tmp_path / "shop", ["red", "blue", "green", "black", "white"])
    build_index(FolderCatalogue(root), tiny_encoder, cache=EmbeddingCache(tmp_path / "c"))
    hashed = _counting_hashes(monkeypatch)
    same = build_index(FolderCatalogue(root), tiny_encoder, cache=EmbeddingCache(tmp_path / "c"))
    assert hashed == [] and same.manifest.encoded == 0  # nothing read: records unchanged
    # a new shot with the old modification time put back (cp -p, rsync -t): its change time
    # still tells, so it is read, hashed and encoded again
    path = root / "2.png"
    before = path.stat()
    Image.new("RGB", (40, 40), "orange").save(path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    again = build_index(FolderCatalogue(root), tiny_encoder, cache=EmbeddingCache(tmp_path / "c"))
    assert hashed == [path.stat().st_size] and again.manifest.encoded == 1
    fresh = tiny_encoder.encode_images([np.asarray(Image.open(path).convert("RGB"))])
    np.testing.assert_allclose(again.vectors[again.positions["2.png"]], fresh[0], atol=1e-5)


def test_an_update_encodes_its_changes_in_full_batches(tmp_path, tiny_encoder, monkeypatch):
    from retrieval.indexing.stages import plan_batches

    root = _shop(tmp_path / "shop", [(i, 2 * i, 3 * i) for i in range(60)])
    build_index(FolderCatalogue(root), tiny_encoder, cache=EmbeddingCache(tmp_path / "c"))
    changed = [f"{i}.png" for i in range(0, 60, 6)]  # 10 photos, spread over the catalogue
    for i, name in enumerate(changed):  # new shots: other bytes, another vector each
        Image.new("RGB", (40, 40), (255, 20 * i, 0)).save(root / name)
    catalogue = FolderCatalogue(root)
    batches = plan_batches(catalogue, tiny_encoder, EmbeddingCache(tmp_path / "c"), 4).batches
    names = [item.id for item in catalogue.items]
    misses = [sum(names[p] in changed for p in b) for b in batches]
    assert misses == [4, 4, 2]  # 10 changes: 3 batches for the encoder, not 10
    assert [p for b in batches for p in b] == list(range(60))
    shared = plan_batches(catalogue, tiny_encoder, EmbeddingCache(tmp_path / "c"), 256, parallel=2)
    halves = [sum(names[p] in changed for p in b) for b in shared.batches]
    assert halves[:2] == [5, 5] and sum(halves) == 10  # a share of the changes for each core
    assert [p for b in shared.batches for p in b] == list(range(60))
    sizes: list[int] = []
    encode = type(tiny_encoder).encode_image_batch
    monkeypatch.setattr(
        type(tiny_encoder),
        "encode_image_batch",
        lambda self, images: sizes.append(len(images)) or encode(self, images),
    )
    update = build_index(
        catalogue, tiny_encoder, cache=EmbeddingCache(tmp_path / "c"), batch_size=4
    )
    assert sorted(sizes) == [2, 4, 4] and update.manifest.encoded == 10


def test_a_damaged_table_of_file_hashes_is_started_again(tmp_path, caplog):
    from retrieval.indexing.file_hashes import FILE_NAME, FileHashes

    (tmp_path / FILE_NAME).write_bytes(b"not a database" * 100)
    files = FileHashes(tmp_path)
    assert "was damaged" in caplog.text and files.known({"/a.png": "1:2:3:4"}) == {}
    files.remember([("/a.png", "1:2:3:4", "abc")])
    assert files.known({"/a.png": "1:2:3:4", "/b.png": "5"}) == {"/a.png": "abc"}
    assert files.known({"/a.png": "1:2:3:5"}) == {}  # the file changed since


def test_many_paths_of_one_folder_are_found_by_one_scan_as_by_lookups(tmp_path):
    """A catalogue's thousands of photos are looked up by one range scan of their folder: the
    same answer as lookups, never a file of a sibling folder whose name starts alike."""
    from retrieval.indexing.file_hashes import _SCAN_FROM, FileHashes

    files = FileHashes(tmp_path)
    shop = [f"/data/shop/{n:05d}.png" for n in range(_SCAN_FROM + 200)]
    deeper = [f"/data/shop/new/{n}.png" for n in range(3)]
    sibling = [f"/data/shop2/{n:05d}.png" for n in range(5)]
    files.remember([(p, "1:1:1:1", f"h{p}") for p in shop + deeper + sibling])
    asked = {p: "1:1:1:1" for p in shop + deeper}
    asked[shop[7]] = "2:2:2:2"  # changed since it was hashed
    asked["/data/shop/unseen.png"] = "1:1:1:1"
    found = files.known(asked)
    assert found == {p: f"h{p}" for p in shop + deeper if p != shop[7]}
    few = {p: "1:1:1:1" for p in sibling[:2] + shop[:2]}  # few: looked up one by one
    assert files.known(few) == {p: f"h{p}" for p in few}
