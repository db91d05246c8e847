"""Bad input and faults (issue 17), end to end: each case gives the right result or one line
naming the input and what to do, never a traceback, never a silently wrong answer.

Cases covered elsewhere: --image a folder (tests/ui/test_cli.py::
test_an_image_folder_is_not_an_image), --k / --dialogues below 1 (tests/ui/test_cli.py::
test_bad_counts_are_refused_with_the_flag); the library-level checks of the others are beside
their modules (tests/retrieval/index/test_store.py, tests/agent/test_agent.py, ...).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import shutil
import sqlite3
import struct
import threading
import zlib

import numpy as np
import pytest
from bad_input_runs import shop
from catalogue_fixtures import write_shape_shop
from PIL import Image

from retrieval.catalogues import FmnistColorCatalogue, FolderCatalogue, decode_image
from retrieval.indexing.embedding_cache import EmbeddingCache
from retrieval.indexing.local import build_index
from ui.cli import main

MEGABYTE = "a red watch " * 87_382  # 1 MiB of text
SHORTENED = re.compile(r"your message was shortened to its first \d{3} characters")
UNREAD = "I could not read that; try describing the kind of item or the colour"


__all__ = ["shop"]  # the fixture (tests/bad_input_runs.py)
pytestmark = pytest.mark.usefixtures("restore_logging")  # main() configures logging


def said(err: str) -> list[str]:
    """circhat's own lines on stderr (progress bars left out); never a traceback."""
    assert "Traceback" not in err
    return re.findall(r"circhat: [^\r\n]*", err)


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


# 1 and 6: a damaged index file ------------------------------------------------------------

CHANGED = "is damaged (its checksum differs from the one recorded at build)"
RESIZED = "is damaged ({after:,} bytes where the build wrote {before:,})"


def overwrite_middle(path):
    """2 KB of other bytes in the middle of a file, its size unchanged."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2 - 1024
    data[middle : middle + 2048] = np.random.default_rng(0).bytes(2048)
    path.write_bytes(bytes(data))


def flip_a_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def edit_the_schema(path):
    schema = json.loads(path.read_text())
    schema["kind"] = "colour"
    path.write_text(json.dumps(schema, indent=1))


def cut_lines(path):
    """The first half of the lines: every line left is whole."""
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[: len(lines) // 2]))


def search_index(index, folder) -> list[str]:
    return ["search", "--text", "a red watch", "--index", str(index), "--catalogue", str(folder)]


def rebuild_of(index, folder) -> str:
    return (
        f"circhat index build --out {index} --catalogue {folder.resolve()} "
        f"--metadata {folder.resolve() / 'metadata.csv'} --model fashion-mini"
    )


@pytest.mark.parametrize(
    "name, damage, problem",
    [
        ("index.faiss", truncate, RESIZED),
        ("vectors.npy", truncate, RESIZED),
        ("vectors.npy", lambda p: np.save(p, np.ones((5, 384), np.float32)), RESIZED),
        ("index.faiss", lambda p: p.unlink(), "is missing"),
        ("index.faiss", overwrite_middle, CHANGED),
        ("vectors.npy", overwrite_middle, CHANGED),
        ("items.jsonl", flip_a_byte, CHANGED),
        ("schema.json", edit_the_schema, RESIZED),
        ("items.jsonl", cut_lines, RESIZED),
    ],
)
def test_a_damaged_index_file_says_how_to_rebuild_that_index(
    shop, tmp_path, capsys, name, damage, problem
):
    folder, built = shop
    index = tmp_path / "idx"
    shutil.copytree(built, index)
    before = (index / name).stat().st_size
    damage(index / name)
    if problem == RESIZED:
        problem = problem.format(before=before, after=(index / name).stat().st_size)
    assert main(search_index(index, folder)) == 2
    assert said(capsys.readouterr().err)[0] == (
        f"circhat: error: {index / name} {problem}: rebuild the index with "
        f"`{rebuild_of(index, folder)}`"
    )


def without_checksums(index):
    """The manifest as circhat wrote it before checksums."""
    manifest = json.loads((index / "manifest.json").read_text())
    del manifest["checksums"], manifest["manifest_checksum"]
    (index / "manifest.json").write_text(json.dumps(manifest, indent=2))


def test_an_index_without_checksums_opens_with_a_note(shop, tmp_path, capsys):
    folder, built = shop
    index = tmp_path / "idx"
    shutil.copytree(built, index)
    without_checksums(index)
    assert main(search_index(index, folder)) == 0
    assert said(capsys.readouterr().err)[0] == (
        f"circhat: note: index {index} was built without checksums, so its files are not "
        f"verified: rebuild it with `{rebuild_of(index, folder)}` to have them checked"
    )


def test_cut_items_of_an_index_without_checksums_are_blamed_on_the_items(shop, tmp_path, capsys):
    folder, built = shop
    index = tmp_path / "idx"
    shutil.copytree(built, index)
    without_checksums(index)
    cut_lines(index / "items.jsonl")
    assert main(search_index(index, folder)) == 2
    assert said(capsys.readouterr().err)[-1] == (
        f"circhat: error: {index / 'items.jsonl'} is damaged (18 items where the build wrote "
        f"36): rebuild the index with `{rebuild_of(index, folder)}`"
    )


@pytest.mark.parametrize(
    "damage, reason",
    [
        (
            lambda p: p.write_text("{"),
            "Invalid JSON: EOF while parsing an object at line 1 column 1",
        ),
        (
            lambda p: p.write_text(p.read_text().replace('"count": 36', '"count": 35')),
            "its checksum differs from the one recorded at build",
        ),
    ],
)
def test_a_damaged_manifest_asks_for_the_catalogue(shop, tmp_path, capsys, damage, reason):
    """A damaged manifest cannot be trusted to name the catalogue: the command asks for it
    (pasted as it is, the shell refuses it rather than build the default catalogue)."""
    folder, built = shop
    index = tmp_path / "idx"
    shutil.copytree(built, index)
    damage(index / "manifest.json")
    assert main(search_index(index, folder)) == 2
    first = said(capsys.readouterr().err)[0]
    assert first.startswith(f"circhat: error: {index / 'manifest.json'} is damaged ({reason}")
    assert first.endswith(
        f": rebuild the index with `circhat index build --out {index} --catalogue "
        "<your catalogue> --model <model>`, naming the catalogue and model it was built from"
    )


def test_an_index_too_big_for_its_catalogue_is_refused_in_one_line(shop, tmp_path, capsys):
    folder, _ = shop
    argv = ["index", "build", "--catalogue", str(folder), "--out", str(tmp_path / "idx")]
    assert main([*argv, "--factory", "IVF256,Flat"]) == 2
    assert said(capsys.readouterr().err) == [
        "circhat: error: FAISS cannot train 'IVF256,Flat' on 36 vectors (Number of training "
        "points (36) should be at least as large as number of clusters (256)): give one that "
        "trains on fewer (fewer IVF lists, PQ bits) or --factory Flat"
    ]


# 2: a damaged embedding cache -------------------------------------------------------------


def _damage_last_quarter(database):
    """Garbage over the last quarter of an SQLite file (its write-ahead log written into it
    first, as when every connection has closed): it opens, and fails where it is read."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        assert db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
    data = bytearray(database.read_bytes())
    pages = len(data) // 4096
    for page in range(pages * 3 // 4, pages):
        data[page * 4096 : (page + 1) * 4096] = b"\x00garbage" * 512
    database.write_bytes(bytes(data))


def test_a_cache_damaged_where_it_is_read_is_moved_aside_in_the_middle_of_a_build(
    tiny_encoder, tmp_path, caplog
):
    import diskcache

    catalogue = FmnistColorCatalogue("test", limit=200)
    folder = tmp_path / "embeddings"
    cache = EmbeddingCache(folder)
    first = build_index(catalogue, tiny_encoder, cache=cache, batch_size=8, progress=False)
    cache.close()
    _damage_last_quarter(folder / "cache.db")
    with diskcache.Cache(str(folder)) as opened:
        opened.get("probe")  # opening does not see the damage
    with caplog.at_level(logging.WARNING):
        cache = EmbeddingCache(folder)
        again = build_index(catalogue, tiny_encoder, cache=cache, batch_size=8, progress=False)
        cache.close()
    np.testing.assert_allclose(np.asarray(again.vectors), np.asarray(first.vectors), atol=1e-6)
    assert again.manifest.encoded > 0
    assert "was damaged (database disk image is malformed): moved it to" in caplog.text
    assert len(list(tmp_path.glob("embeddings.damaged-*"))) == 1
    assert EmbeddingCache(folder).get_many(tiny_encoder.fingerprint, ["x"]) == [None]


def test_a_read_that_fails_gives_misses_and_a_new_cache(tmp_path, caplog):
    cache = EmbeddingCache(tmp_path / "embeddings")
    cache.put_many("m", ["a", "b"], np.ones((2, 4), np.float32))

    def broken(*args, **kwargs):
        raise sqlite3.DatabaseError("database disk image is malformed")

    cache.store.get = broken
    with caplog.at_level(logging.WARNING):
        assert cache.get_many("m", ["a", "b"]) == [None, None]
    assert "started a new one" in caplog.text
    cache.put_many("m", ["a"], np.full((1, 4), 2, np.float32))  # the new cache works
    assert cache.get_many("m", ["a"])[0].tolist() == [2, 2, 2, 2]
    cache.close()


def test_vectors_altered_where_sqlite_does_not_look_are_encoded_again(tmp_path, caplog):
    folder = tmp_path / "embeddings"
    cache = EmbeddingCache(folder)
    vectors = np.arange(32, dtype=np.float32).reshape(2, 16) / 100
    cache.put_many("m", ["a", "b"], vectors)
    cache.close()
    data = (folder / "cache.db").read_bytes()
    at = data.find(vectors[1].tobytes())
    assert at > 0
    wrong = vectors[0].tobytes()  # finite, plausible, wrong
    (folder / "cache.db").write_bytes(data[:at] + wrong + data[at + len(wrong) :])
    with caplog.at_level(logging.WARNING):
        assert EmbeddingCache(folder).get_many("m", ["a", "b"]) == [None, None]
    assert "holds damaged vectors" in caplog.text


def test_index_build_goes_on_with_a_damaged_cache_under_the_home(shop, isolated_home, capsys):
    folder, _ = shop
    argv = ["index", "build", "--catalogue", str(folder), "--out", str(isolated_home / "idx")]
    assert main(argv) == 0
    first = np.load(isolated_home / "idx" / "vectors.npy")
    _damage_last_quarter(isolated_home / "embeddings" / "cache.db")
    capsys.readouterr()
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert re.search(r"indexed 36 items .*: \d+ encoded, \d+ from the cache, 0 skipped", out)
    warning = [line for line in said(err) if "damaged" in line]
    assert len(warning) == 1 and "moved it to" in warning[0] and "started a new one" in warning[0]
    np.testing.assert_allclose(np.load(isolated_home / "idx" / "vectors.npy"), first, atol=1e-6)


# 3 and 11: metadata rows with extra fields, repeated ids, missing files -------------------


def _bad_rows(folder):
    with open(folder / "metadata.csv", "a", encoding="utf-8") as f:
        f.write("p900,Tshirts,Red,extra,fields,here\n")  # line 38
        f.write("p001,Tshirts,Blue,A repeated id\n")  # line 39 (p001 is on line 3)
        f.write("p002,Watches,Green,Another repeated id\n")  # line 40
        f.write("p999,Watches,Green,No photo\n")  # line 41
        f.write(',Watches,Green,"A title\nover two lines"\n')  # lines 42-43: no id
    return folder


def test_bad_metadata_rows_are_skipped_and_reported_by_line(tmp_path):
    catalogue = FolderCatalogue(_bad_rows(write_shape_shop(tmp_path / "shop")))
    assert len(catalogue) == 36
    assert catalogue.problems.lines() == [
        "1 malformed rows skipped (line 38: has 6 fields, the header has 4)",
        "2 rows with a repeated id skipped (line 39: id 'p001', first on line 3; "
        "line 40: id 'p002', first on line 4)",
        "1 rows without an image skipped (line 41: no image 'p999')",
        "1 rows without an id skipped (line 42: 'id' is empty)",
    ]
    assert catalogue.report()["skipped"]["rows with a repeated id skipped"] == {
        "count": 2,
        "first": ["line 39", "line 40"],
    }


def test_index_build_sums_up_what_the_metadata_left_out(tmp_path, capsys):
    folder = _bad_rows(write_shape_shop(tmp_path / "shop"))
    argv = ["index", "build", "--catalogue", str(folder), "--out", str(tmp_path / "idx")]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "1 malformed rows skipped (line 38: has 6 fields, the header has 4)" in err
    assert out.strip().endswith(
        "0 skipped (metadata: 1 malformed rows skipped, 2 rows with a repeated id skipped, "
        "1 rows without an image skipped, 1 rows without an id skipped) -> " + str(tmp_path / "idx")
    )


@pytest.mark.parametrize(
    "extra, problem",
    [
        (
            'p900,Tshirts,Red,"an open quote\n',
            "a quote opened on it is never closed: lines 38 to 39",
        ),
        (
            'p900,Tshirts,"Red,an open quote\n',
            "a quote opened on it is never closed: lines 38 to 39",
        ),
        ('p900,Tshirts,"Red"",an open quote"\n', "has 3 fields, the header has 4"),
        ("p901,Tshirts,Red," + "x" * 200_000 + "\n", "not readable (field larger than field"),
    ],
)
def test_an_unreadable_csv_row_is_one_skipped_row(tmp_path, extra, problem):
    folder = write_shape_shop(tmp_path / "shop")
    shutil.copy(folder / "images" / "p000.jpg", folder / "images" / "p902.jpg")
    with open(folder / "metadata.csv", "a", encoding="utf-8") as f:
        f.write(extra + "p902,Tshirts,Red,after it\n")  # read, unless the row above took it
    catalogue = FolderCatalogue(folder)
    assert catalogue.problems.lines()[0].startswith(f"1 malformed rows skipped (line 38: {problem}")
    assert catalogue.items[-1].id == ("p902" if "never closed" not in problem else "p035")


def test_a_file_column_naming_a_missing_file_is_reported(tmp_path):
    Image.new("RGB", (8, 8), "red").save(tmp_path / "a.png")
    (tmp_path / "metadata.csv").write_text("file,colour\na.png,red\ngone.png,blue\na.png,red\n")
    catalogue = FolderCatalogue(tmp_path)
    assert [item.id for item in catalogue.items] == ["a.png"]
    assert catalogue.problems.lines() == [
        "1 rows without an image skipped (line 3: no image 'gone.png')",
        "1 rows with a repeated id skipped (line 4: id 'a.png', first on line 2)",
    ]


# 5: Ctrl-C in a build ---------------------------------------------------------------------


def test_ctrl_c_in_a_build_says_how_much_is_cached_and_the_rerun_resumes(
    tiny_encoder, tmp_path, capsys, monkeypatch
):
    import retrieval.encoders
    import retrieval.indexing.local

    monkeypatch.setattr(retrieval.encoders, "load_encoder", lambda *args, **kw: tiny_encoder)
    # a real Ctrl-C reaches the main thread between batches: run the batches there, so that
    # which batch is interrupted does not depend on how the worker threads were scheduled
    monkeypatch.setattr(
        retrieval.indexing.local, "per_core_map", lambda fn, items, workers=None: map(fn, items)
    )
    calls, lock = {"n": 0}, threading.Lock()
    original = tiny_encoder.encode_image_batch

    def ctrl_c_on_the_third_batch(images):
        with lock:
            calls["n"] += 1
            now = calls["n"] == 3
        if now:
            raise KeyboardInterrupt
        return original(images)

    argv = ["index", "build", "--catalogue", "fmnist-color:test:96", "--out", str(tmp_path / "i")]
    argv += ["--batch-size", "16"]
    tiny_encoder.encode_image_batch = ctrl_c_on_the_third_batch
    try:
        assert main(argv) == 130
    finally:
        del tiny_encoder.encode_image_batch
    (line,) = said(capsys.readouterr().err)
    found = re.fullmatch(
        r"circhat: interrupted after (\d+) of 96 images; the (\d+) encoded so far are cached: "
        r"run the same command again to resume",
        line,
    )
    assert found and 16 <= int(found[2]) <= int(found[1]) < 96
    assert main(argv) == 0
    resumed = re.search(r"(\d+) encoded, (\d+) from the cache", capsys.readouterr().out)
    assert int(resumed[2]) >= int(found[2]) and int(resumed[1]) + int(resumed[2]) == 96


# 7 and 8: text the rules cannot read, a megabyte of text ----------------------------------


def _chat(shop, monkeypatch, capsys, lines: list[str]) -> list[dict]:
    folder, index = shop
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    argv = ["chat", "--json", "--catalogue", str(folder), "--index", str(index)]
    assert main([*argv, "--composer", "sum"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_text_the_rules_cannot_read_is_said_not_searched(shop, monkeypatch, capsys):
    lines = ["红色连衣裙", "😀😀😀", "a red watch", "红色连衣裙", ":pick 1 😀", "🙂"]
    answers = _chat(shop, monkeypatch, capsys, lines)
    assert [a["reply"] for a in answers[:2]] == [UNREAD, UNREAD]
    assert [a["error"] for a in answers[3:]] == [UNREAD] * 3
    assert answers[2]["results"] and not answers[2].get("error")
    assert not any("like the reference" in a["reply"] for a in answers)


@pytest.mark.parametrize("text", ["红色连衣裙", "😀😀😀"])
def test_search_text_the_rules_cannot_read_is_refused(shop, capsys, text):
    folder, index = shop
    argv = ["search", "--text", text, "--index", str(index), "--catalogue", str(folder)]
    assert main(argv) == 2
    assert said(capsys.readouterr().err) == [f"circhat: error: --text {text!r}: {UNREAD}"]


def test_a_megabyte_chat_message_is_shortened_with_a_note(shop, monkeypatch, capsys):
    (answer,) = _chat(shop, monkeypatch, capsys, [MEGABYTE])
    assert answer["results"] and "Your message was shortened to its first" in answer["reply"]
    assert len(answer["caption"]) <= 500


def test_a_megabyte_rewrite_is_shortened_with_a_note(shop, capsys):
    folder, _ = shop
    assert main(["rewrite", MEGABYTE, "--json", "--catalogue", str(folder)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert SHORTENED.fullmatch(out["note"]) and sorted(out["caption"].split(", ")) == [
        "Red",
        "Watches",
    ]
    assert main(["rewrite", MEGABYTE, "--catalogue", str(folder)]) == 0
    assert SHORTENED.search(capsys.readouterr().out.splitlines()[-1])


def test_a_megabyte_search_text_is_shortened_with_a_note(shop, capsys):
    folder, index = shop
    argv = ["search", "--text", MEGABYTE, "--index", str(index), "--catalogue", str(folder)]
    assert main([*argv, "--json", "--k", "3"]) == 0
    out, err = capsys.readouterr()
    assert len(json.loads(out)["results"]) == 3
    (note,) = [line for line in said(err) if "note" in line]
    assert note.startswith("circhat: note: --text: ") and SHORTENED.search(note)


def test_a_megabyte_caption_edit_in_the_app_is_shortened_with_a_note(shop):
    from agent.factory import build_agent
    from retrieval.catalogues import CatalogueRef
    from ui import handlers

    folder, index = shop
    ref = CatalogueRef.parse(str(folder))
    agent = build_agent(catalogue=ref, index_dir=index, composer="sum")
    ctx = handlers.AppContext(agent)
    first = handlers.send(ctx, ctx.new_session(), "a red watch", None, "sum")
    for update in (
        handlers.search_caption(ctx, first.session, MEGABYTE, None, "sum"),
        handlers.send(ctx, first.session, MEGABYTE, None, "sum"),
    ):
        turn = update.session.dialogue.turns[-1]
        assert update.session.dialogue.last_results and len(turn.caption) <= 500
        assert SHORTENED.search(turn.note) and "shortened" in update.chat[-1]["content"]
        assert len(update.chat[-2]["content"]) <= handlers.MAX_SHOWN_CHARS + 30  # "Search ..."


# 10: 16-bit and transparent pictures ------------------------------------------------------


def png(array: np.ndarray, colour_type: int, depth: int = 16) -> bytes:
    """A PNG written byte by byte: PIL cannot write 16-bit colour (types 2, 4 and 6)."""
    height, width = array.shape[:2]
    sample = ">u2" if depth == 16 else "u1"
    raw = b"".join(b"\x00" + np.ascontiguousarray(row).astype(sample).tobytes() for row in array)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _saved(image: Image.Image, kind: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, kind, **options)
    return buffer.getvalue()


def _centre(dtype, inside, outside) -> np.ndarray:
    """An 8x8 picture: `inside` on its 4x4 centre, `outside` around it."""
    out = np.empty((8, 8, *np.shape(inside)), dtype)
    out[...] = outside
    out[2:6, 2:6] = inside
    return out


def _palette() -> Image.Image:
    image = Image.new("P", (8, 8), 0)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.paste(1, (2, 2, 6, 6))
    return image


DEEP, BYTE = np.uint16, np.uint8
PICTURES = {  # name: (the file, its pixel outside the centre and inside it once decoded)
    "16-bit RGB": (png(_centre(DEEP, (40000, 10000, 5000), 0), 2), (0, 0, 0), (156, 39, 19)),
    "16-bit RGBA": (
        png(_centre(DEEP, (65535, 30000, 0, 65535), (0, 65535, 0, 0)), 6),
        (255, 255, 255),
        (255, 117, 0),
    ),
    "16-bit grey and alpha": (
        png(_centre(DEEP, (0, 65535), (65535, 0)), 4),
        (255, 255, 255),
        (0, 0, 0),
    ),
    "16-bit grey, one level transparent": (
        _saved(Image.fromarray(_centre(DEEP, 30000, 0)), transparency=0),
        (255, 255, 255),
        (117, 117, 117),
    ),
    "grey, one level transparent": (
        _saved(Image.fromarray(_centre(BYTE, 128, 0)), transparency=0),
        (255, 255, 255),
        (128, 128, 128),
    ),
    "RGB, one colour transparent": (
        _saved(Image.fromarray(_centre(BYTE, (0, 0, 255), (255, 0, 0))), transparency=(255, 0, 0)),
        (255, 255, 255),
        (0, 0, 255),
    ),
    "palette with transparency": (
        _saved(_palette(), transparency=0),
        (255, 255, 255),
        (0, 0, 255),
    ),
    "GIF with transparency": (
        _saved(_palette(), "GIF", transparency=0),
        (255, 255, 255),
        (0, 0, 255),
    ),
    "float TIFF from 0 to 1": (
        _saved(Image.fromarray(_centre(np.float32, 0.5, 1.0)), "TIFF"),
        (255, 255, 255),
        (128, 128, 128),
    ),
}


@pytest.mark.parametrize("name", list(PICTURES))
def test_deep_and_transparent_pictures_decode_to_what_they_show(name):
    data, outside, inside = PICTURES[name]
    decoded = decode_image(data, name)
    assert decoded.shape == (8, 8, 3) and decoded.dtype == np.uint8
    assert decoded[0, 0].tolist() == list(outside) and decoded[3, 3].tolist() == list(inside)


def test_a_16_bit_or_cut_out_upload_finds_the_photo_it_shows(shop, tmp_path, capsys):
    folder, index = shop
    pixels = np.asarray(Image.open(folder / "images" / "p004.jpg").convert("RGB"))
    (tmp_path / "deep.png").write_bytes(png(pixels.astype(np.uint16) * 257, 2))
    cut_out = np.dstack([pixels, np.full(pixels.shape[:2], 255, np.uint8)])
    background = (pixels >= 250).all(axis=2)
    cut_out[background] = (0, 200, 0, 0)  # transparent, with a green the file still holds
    Image.fromarray(cut_out, "RGBA").save(tmp_path / "cut-out.png")
    assert (decode_image((tmp_path / "cut-out.png").read_bytes())[background] == 255).all()
    for upload in ("deep.png", "cut-out.png"):
        argv = ["search", "--image", str(tmp_path / upload), "--index", str(index), "--json"]
        assert main([*argv, "--catalogue", str(folder), "--text", ""]) == 0
        best = json.loads(capsys.readouterr().out)["results"][0]
        assert best["id"] == "p004" and best["score"] > 0.98


# issue 29, 3: photos stored turned, with the EXIF orientation that shows them upright ------


def _store_turned(source, target, orientation: int) -> None:
    """The photo at `source` saved at `target` as a camera held sideways would store it."""
    turn = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90}
    turn[8] = Image.Transpose.ROTATE_270
    exif = Image.Exif()
    exif[0x0112] = orientation
    with Image.open(source) as photo:
        turned = photo.convert("RGB").transpose(turn[orientation])
    turned.save(target, "JPEG", quality=95, exif=exif.tobytes())


def _vector(index, item_id: str) -> np.ndarray:
    ids = [json.loads(line)["id"] for line in (index / "items.jsonl").read_text().splitlines()]
    vector = np.load(index / "vectors.npy")[ids.index(item_id)]
    return vector / np.linalg.norm(vector)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_a_turned_upload_finds_the_photo_it_shows(shop, tmp_path, capsys, orientation):
    folder, index = shop
    upload = tmp_path / "phone.jpg"
    _store_turned(folder / "images" / "p006.jpg", upload, orientation)  # a triangle
    argv = ["search", "--image", str(upload), "--index", str(index), "--json"]
    assert main([*argv, "--catalogue", str(folder), "--text", ""]) == 0
    out, err = capsys.readouterr()
    best = json.loads(out)["results"][0]
    assert best["id"] == "p006" and best["score"] > 0.99 and said(err) == []


def test_an_index_build_reads_a_turned_photo_as_shown(shop, tmp_path, capsys):
    folder, index = shop
    turned = shutil.copytree(folder, tmp_path / "shop")
    _store_turned(folder / "images" / "p006.jpg", turned / "images" / "p006.jpg", 6)
    argv = ["index", "build", "--catalogue", str(turned), "--out", str(tmp_path / "idx")]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert re.match(r"indexed 36 items .*: 36 encoded, 0 from the cache, 0 skipped", out)
    assert said(err) == []
    assert float(_vector(tmp_path / "idx", "p006") @ _vector(index, "p006")) > 0.99


# 12 and 13: "a red number"; a byte-order mark ---------------------------------------------


@pytest.mark.parametrize(
    "catalogue, wanted",
    [(None, ("color", "red")), ("shop", ("baseColour", "Red"))],
)
def test_a_red_number_requires_red_only(shop, capsys, catalogue, wanted):
    folder, _ = shop
    where = ["--catalogue", str(folder)] if catalogue else []
    assert main(["rewrite", "a red number", "--json", *where]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(c["attribute"], c["value"], c["polarity"]) for c in out["constraints"]] == [
        (*wanted, "require")
    ]
    assert out["caption"] == f"{wanted[1]}, number"


def test_metadata_saved_by_excel_with_a_byte_order_mark_loads(tmp_path, capsys):
    folder = write_shape_shop(tmp_path / "shop")
    text = (folder / "metadata.csv").read_text(encoding="utf-8").replace("\r\n", "\n")
    (folder / "metadata.csv").write_bytes("\ufeff".encode() + text.replace("\n", "\r\n").encode())
    assert main(["catalogue", "inspect", str(folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["items"] == 36 and report["id_column"] == "id"
    assert report["title_column"] == "productDisplayName" and report["skipped"] == {}
    assert set(report["attributes"]) == {"articleType", "baseColour"}
