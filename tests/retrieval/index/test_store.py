"""A damaged index folder is refused with one line naming the file and what to do."""

import shutil

import numpy as np
import pytest

from retrieval.index import SearchIndex, checksums, store


@pytest.fixture
def saved(small_gallery, tmp_path):
    _, index = small_gallery
    return index.save(tmp_path / "idx")


def _truncate(path, size):
    data = path.read_bytes()
    path.write_bytes(data[:size])


@pytest.mark.parametrize(
    "name, damage",
    [
        ("index.faiss", lambda p: _truncate(p, 1000)),
        ("vectors.npy", lambda p: _truncate(p, 10_000)),
        ("items.jsonl", lambda p: p.write_text('{"id": "x", broken\n')),
        ("manifest.json", lambda p: p.write_text("{")),
        ("schema.json", lambda p: p.write_text('{"attributes": 3}')),
        ("items.jsonl", lambda p: p.unlink()),
    ],
)
def test_damaged_files_name_the_file_and_the_fix(saved, trained_encoder, name, damage):
    damage(saved / name)
    with pytest.raises(ValueError) as err:
        SearchIndex.load(saved, trained_encoder)
    message = str(err.value)
    assert str(saved / name) in message and "circhat index build --out" in message
    assert "\n" not in message


def test_a_copied_index_still_loads(saved, trained_encoder, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(saved, copy)
    assert len(SearchIndex.load(copy, trained_encoder)) == 1000


def test_every_file_of_the_index_carries_its_checksum(saved):
    manifest = store.read_manifest(saved)
    assert set(manifest.checksums) == {"index.faiss", "items.jsonl", "vectors.npy", "schema.json"}
    for name, recorded in manifest.checksums.items():
        assert checksums.of_file(saved / name) == recorded
        assert recorded.size == (saved / name).stat().st_size
    assert len(manifest.manifest_checksum) == 32


@pytest.mark.parametrize("mmap", [False, True])
def test_an_intact_index_passes_its_checks_memory_mapped_or_not(saved, trained_encoder, mmap):
    loaded = SearchIndex.load(saved, trained_encoder, mmap=mmap)
    unchecked = SearchIndex.load(saved, trained_encoder, mmap=mmap, verify=False)
    assert loaded.notes == [] and len(loaded) == 1000
    query = np.asarray(loaded.vectors[3])
    assert [(h.position, h.score) for h in loaded.search(query, 10)[0]] == [
        (h.position, h.score) for h in unchecked.search(query, 10)[0]
    ]


@pytest.mark.parametrize("name", ["index.faiss", "vectors.npy", "items.jsonl"])
@pytest.mark.parametrize("mmap", [False, True])
def test_2_kb_overwritten_in_the_middle_is_found_memory_mapped_or_not(
    saved, trained_encoder, name, mmap
):
    data = bytearray((saved / name).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2048] = bytes(2048)
    (saved / name).write_bytes(bytes(data))
    with pytest.raises(ValueError) as err:
        SearchIndex.load(saved, trained_encoder, mmap=mmap)
    assert str(err.value).startswith(
        f"{saved / name} is damaged (its checksum differs from the one recorded at build): "
        f"rebuild the index with `circhat index build --out {saved} "
    )


def test_a_re_saved_index_records_the_checksums_of_its_new_files(saved, trained_encoder):
    loaded = SearchIndex.load(saved, trained_encoder)
    loaded.save(saved)
    again = SearchIndex.load(saved, trained_encoder)
    assert again.manifest.checksums == loaded.manifest.checksums
    assert again.notes == []
