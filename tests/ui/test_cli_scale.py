"""The large-catalogue flags of the command line: variants galleries, IVF-PQ, mmap, settings."""

import json

import pytest

from retrieval.catalogues.fashion_mnist import missing_split
from retrieval.index import MANIFEST_FILE, SCRATCH_VECTORS, Manifest
from ui.cli import main


@pytest.fixture
def ivfpq_dir(tiny_weights, tmp_path, capsys):
    if missing := missing_split("train"):  # the variants render the train split too
        pytest.skip(missing)
    out = tmp_path / "variants"
    argv = ["index", "build", "--catalogue", "fmnist-color-variants:600", "--factory", "IVF4,PQ8"]
    argv += ["--model", f"fashion-mini:{tiny_weights}", "--out", str(out), "--batch-size", "128"]
    assert main(argv) == 0
    assert "indexed 600 items of fmnist-color-variants-600" in capsys.readouterr().out
    return out


def test_index_build_of_a_variants_gallery_with_ivf_pq(ivfpq_dir):
    manifest = Manifest.model_validate_json((ivfpq_dir / MANIFEST_FILE).read_text())
    assert manifest.factory == "IVF4,PQ8" and manifest.count == 600 and manifest.encoded == 600
    assert manifest.search_defaults == {"nprobe": 4, "rerank": 400}
    assert manifest.catalogue_fingerprint == "fmnist-color-variants-seed0-64px-n600"
    assert not (ivfpq_dir / SCRATCH_VECTORS).exists()


def test_search_takes_query_time_settings_and_mmap(ivfpq_dir, tiny_weights, capsys):
    argv = [
        "search",
        "--text",
        "a red striped dress",
        "--index",
        str(ivfpq_dir),
        "--json",
        "--composer",
        "sum",
    ]
    argv += ["--model", f"fashion-mini:{tiny_weights}", "--mmap"]
    assert main([*argv, "--nprobe", "4", "--rerank", "600"]) == 0
    exhaustive = json.loads(capsys.readouterr().out)["results"]
    assert len(exhaustive) == 10 and exhaustive[0]["id"].startswith("train-")
    scores = [r["score"] for r in exhaustive]
    assert scores == sorted(scores, reverse=True)
    assert main([*argv, "--nprobe", "1", "--rerank", "0"]) == 0
    assert len(json.loads(capsys.readouterr().out)["results"]) == 10


def test_a_setting_the_index_lacks_is_one_line(ivfpq_dir, tiny_weights, capsys):
    argv = ["search", "--text", "a bag", "--index", str(ivfpq_dir), "--composer", "sum"]
    argv += ["--model", f"fashion-mini:{tiny_weights}", "--ef-search", "32"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--ef-search applies to HNSW indexes" in err


def test_bench_sizes_must_be_numbers(capsys):
    assert main(["bench", "--sizes", "big"]) == 2
    assert "--sizes 'big'" in capsys.readouterr().err
