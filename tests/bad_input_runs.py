"""Runs of circhat commands on bad inputs for tests/test_bad_inputs*.py: a 36-photo shop
indexed once per module, and `run`, which returns the exit status and circhat's first line and
checks that no input file changed."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest
from catalogue_fixtures import write_shape_shop

from ui.cli import main


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """(folder, index folder) of a 36-photo shop, indexed through the CLI in a home of its own."""
    root = tmp_path_factory.mktemp("bad-inputs-more")
    folder = write_shape_shop(root / "shop")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CIRCHAT_HOME", str(root / "home"))
        argv = ["index", "build", "--catalogue", str(folder), "--out", str(root / "idx")]
        assert main(argv) == 0
    return folder, root / "idx"


@pytest.fixture
def home(shop, tmp_path, monkeypatch):
    """A home of the test's own (its embedding cache, its indexes)."""
    monkeypatch.setenv("CIRCHAT_HOME", str(tmp_path / "home"))
    return tmp_path


def copy_shop(shop, tmp_path):
    folder = tmp_path / "shop"
    shutil.copytree(shop[0], folder)
    return folder


def fingerprint(*folders) -> dict:
    """Every file under the folders and its sha256: what a command must leave as it was."""
    return {
        str(path): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in map(Path, folders)
        if folder.is_dir()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def run(argv, capsys, *inputs) -> tuple[int, str, str]:
    """(exit status, stdout, circhat's first error line on stderr, else its first line); the
    input folders unchanged."""
    before = fingerprint(*inputs)
    status = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert fingerprint(*inputs) == before
    said = re.findall(r"circhat: [^\r\n]*", err)
    errors = [line for line in said if line.startswith("circhat: error: ")]
    return status, out, (errors or said or [""])[0]


def inspect(folder, capsys, *more) -> tuple[int, str, str]:
    return run(["catalogue", "inspect", folder, *more], capsys, folder)


def search(shop, capsys, *more, index=None, folder=None):
    folder = folder or shop[0]
    argv = ["search", "--text", "a red watch", "--catalogue", folder]
    return run([*argv, "--index", index or shop[1], *more], capsys, folder, shop[1])


def build(folder, out, capsys, *more):
    argv = ["index", "build", "--catalogue", folder, "--out", out, *more]
    return run(argv, capsys, folder)


def with_metadata(shop, tmp_path, text: str | bytes, name: str = "metadata.csv"):
    folder = copy_shop(shop, tmp_path)
    (folder / "metadata.csv").unlink()
    data = text.encode() if isinstance(text, str) else text
    (folder / name).write_bytes(data)
    return folder


def shop_rows(shop) -> list[str]:
    return (shop[0] / "metadata.csv").read_text(encoding="utf-8").splitlines()
