"""More bad inputs (issue 29, item 6), one circhat command each: index folders (missing,
damaged, foreign), command-line values and `chat --json` lines. As in
tests/test_bad_inputs_more.py: the exit status, circhat's first line, no input file changed;
the cases still failing carry `xfail(strict=True)` with the reason."""

from __future__ import annotations

import io
import json
import shutil

import pytest
from bad_input_runs import build, copy_shop, home, inspect, run, search, shop, with_metadata
from catalogue_fixtures import write_shape_shop

pytestmark = pytest.mark.usefixtures("restore_logging")  # main() configures logging
__all__ = ["home", "shop"]  # fixtures


# index folders: missing, damaged, foreign --------------------------------------------------


def test_an_empty_index_folder_is_where_the_index_is_built(shop, home, capsys):
    (home / "idx").mkdir()
    status, _, said = search(shop, capsys, index=home / "idx")
    assert (status, said) == (
        0,
        f"circhat: building the index of {shop[0]} with fashion-mini in {home / 'idx'}",
    )
    assert (home / "idx" / "manifest.json").is_file()


def test_an_index_that_is_a_file_is_named(shop, tmp_path, capsys):
    (tmp_path / "idx").write_text("x")
    status, _, said = search(shop, capsys, index=tmp_path / "idx")
    assert status == 2 and said.startswith(f"circhat: error: --index {tmp_path / 'idx'} is a file")


def test_a_catalogue_folder_given_as_the_index_is_named(shop, tmp_path, capsys):
    folder = copy_shop(shop, tmp_path)
    status, _, said = search(shop, capsys, index=folder, folder=folder)
    assert status == 2 and said.startswith(f"circhat: error: --index {folder} ")


def test_a_stray_file_in_an_index_folder_is_ignored(shop, tmp_path, capsys):
    index = shutil.copytree(shop[1], tmp_path / "idx")
    (index / "notes.txt").write_text("my notes")
    status, out, said = search(shop, capsys, "--json", index=index)
    assert (status, said) == (0, "") and json.loads(out)["results"]


def test_an_index_without_its_manifest_says_how_to_rebuild(shop, tmp_path, capsys):
    index = shutil.copytree(shop[1], tmp_path / "idx")
    (index / "manifest.json").unlink()
    assert search(shop, capsys, index=index)[::2] == (
        2,
        f"circhat: error: {index / 'manifest.json'} is missing (the index's index.faiss, "
        f"items.jsonl, vectors.npy are there): rebuild the index with `circhat index build "
        f"--out {index} --catalogue {shop[0]} --model fashion-mini`",
    )


def test_an_index_of_another_catalogue_is_refused(shop, home, capsys):
    other = write_shape_shop(home / "other", copies=2)
    assert build(other, home / "idx", capsys)[0] == 0
    status, _, said = search(shop, capsys, index=home / "idx")
    assert status == 2 and said.startswith(f"circhat: error: index {home / 'idx'} ")
    assert str(other.resolve()) in said and str(shop[0].resolve()) in said


def test_an_index_of_another_model_is_refused(shop, home, capsys):
    index = shutil.copytree(shop[1], home / "idx")
    status, _, said = search(shop, capsys, "--model", "fashion-clip", index=index)
    assert status == 2 and said.startswith("circhat: error: ")
    assert "fashion-mini" in said


# command-line values ---------------------------------------------------------------------


def test_images_that_do_not_exist_are_named(shop, tmp_path, capsys):
    status, _, said = inspect(shop[0], capsys, "--images", tmp_path / "gone")
    assert (status, said) == (
        2,
        f"circhat: error: image folder {tmp_path / 'gone'} does not exist: check --images",
    )


def test_images_that_is_a_file_is_named(shop, capsys):
    photo = shop[0] / "images" / "p000.jpg"
    status, _, said = inspect(shop[0], capsys, "--images", photo)
    assert (status, said) == (
        2,
        f"circhat: error: image folder {photo} is a file: give --images the folder of the photos",
    )


def test_a_catalogue_that_is_a_file_asks_for_its_folder(shop, home, capsys):
    csv_file = shop[0] / "metadata.csv"
    status, _, said = build(csv_file, home / "idx", capsys)
    assert (status, said) == (
        2,
        f"circhat: error: catalogue folder {csv_file} is a file: give --catalogue the folder "
        "of the photos, and this file as --metadata",
    )


def test_a_catalogue_that_does_not_exist_is_named(shop, home, capsys):
    status, _, said = build(home / "nowhere", home / "idx", capsys)
    assert status == 2 and said.startswith("circhat: error: ") and "nowhere" in said


def test_an_unknown_part_of_the_rendered_catalogue_is_named(home, capsys):
    status, _, said = build("fmnist-color:bogus", home / "idx", capsys)
    assert status == 2 and said.startswith("circhat: error: ") and "bogus" in said


@pytest.mark.parametrize(
    "flag, value, problem",
    [
        ("--nprobe", "-1", "applies to IVF indexes; this index is 'Flat'"),
        ("--ef-search", "0", "applies to HNSW indexes; this index is 'Flat'"),
        ("--rerank", "-5", "must be a positive number, not -5"),
    ],
)
def test_a_search_setting_that_cannot_apply_is_refused_by_name(shop, capsys, flag, value, problem):
    status, _, said = search(shop, capsys, flag, value)
    assert status == 2 and said.startswith(f"circhat: error: {flag} {problem}")


def test_a_batch_size_of_zero_is_refused(shop, home, capsys):
    status, _, said = build(shop[0], home / "idx", capsys, "--batch-size", "0")
    assert (status, said) == (2, "circhat: error: --batch-size must be at least 1, not 0")


def test_an_unknown_factory_is_named(shop, home, capsys):
    status, _, said = build(shop[0], home / "idx", capsys, "--factory", "Bogus42")
    assert status == 2 and said.startswith("circhat: error: ") and "'Bogus42'" in said


def test_an_out_that_is_a_file_is_refused(shop, home, capsys):
    (home / "taken").write_text("mine")
    status, _, said = build(shop[0], home / "taken", capsys)
    assert status == 2 and said.startswith(f"circhat: error: --out {home / 'taken'}")
    assert (home / "taken").read_text() == "mine"


@pytest.mark.parametrize("flag, value", [("--epochs", "0"), ("--limit", "-3")])
def test_a_negative_training_setting_is_refused(shop, home, capsys, flag, value):
    argv = ["train", "encoder", "--catalogue", shop[0], flag, value]
    status, _, said = run(argv, capsys, shop[0])
    assert status == 2 and said.startswith(f"circhat: error: {flag} must be at least")


# messages for chat --json ----------------------------------------------------------------


def chat(shop, monkeypatch, capsys, lines: list[str]) -> list[dict]:
    folder, index = shop
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    argv = ["chat", "--json", "--catalogue", folder, "--index", index, "--composer", "sum"]
    status, out, _ = run(argv, capsys, folder, index)
    assert status == 0
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize(
    "line, error",
    [
        ("{not json", "not a valid JSON object"),
        ('{"text": "red", "colour": "blue"}', "unknown key"),
        ('{"pick": "p999"}', "'p999' is not among the results shown"),
        ('{"pick": 99}', "there is no result 99"),
        ('{"colours": "p999"}', "'p999' is not among the results shown"),
        ('{"chip": 40}', "there is no suggestion"),
        ('{"text": 5}', "'text' must be a string, not 5"),
        ("[1, 2]", "not a valid JSON object (an array)"),
    ],
)
def test_a_bad_chat_line_is_answered_and_the_dialogue_goes_on(
    shop, monkeypatch, capsys, line, error
):
    first, bad, after = chat(shop, monkeypatch, capsys, ["a red watch", line, ":pick 1"])
    assert first["results"] and not first["error"]
    assert error in bad["error"] and bad["results"] == first["results"]
    assert after["error"] is None and after["results"]


@pytest.mark.xfail(
    strict=True,
    reason="degraded, left as is: run_json skips blank lines on purpose (ui/chat.py), so a client counting one answer per line loses count; answering them changes the protocol for scripts whose files end in blank lines, a decision for the lead",
)
def test_an_empty_chat_line_asks_for_words(shop, monkeypatch, capsys):
    (answer,) = chat(shop, monkeypatch, capsys, [""])
    assert answer["error"] and not answer["results"]


def test_a_10000_character_chat_message_is_shortened_with_a_note(shop, monkeypatch, capsys):
    (answer,) = chat(shop, monkeypatch, capsys, [("a red watch " * 834)[:10_000]])
    assert answer["results"] and "Your message was shortened to its first" in answer["reply"]


def test_a_pick_of_an_unknown_id_before_any_search_is_answered(shop, monkeypatch, capsys):
    (answer,) = chat(shop, monkeypatch, capsys, [":pick p999 in red"])
    assert answer["error"] and "p999" in answer["error"]


def test_chat_with_an_unreadable_catalogue_is_one_line(shop, tmp_path, monkeypatch, capsys):
    folder = with_metadata(shop, tmp_path, b"")
    monkeypatch.setattr("sys.stdin", io.StringIO("a red watch\n"))
    argv = ["chat", "--json", "--catalogue", folder, "--composer", "sum", "--index", tmp_path / "i"]
    status, _, said = run(argv, capsys, folder)
    assert status == 2 and said.startswith(
        f"circhat: error: metadata file {folder / 'metadata.csv'} is empty"
    )
