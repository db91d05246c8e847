"""A damaged index folder is refused with one line naming the file and what to do."""

import shutil

import pytest

from retrieval.index import SearchIndex


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
