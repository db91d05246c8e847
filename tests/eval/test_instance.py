"""The instance benchmark on tiny synthetic galleries, its CLI verb and the style groups."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from eval import instance as ev
from retrieval.catalogues.fashion_mnist import DatasetMissingError
from retrieval.instance.query import ExpansionSettings
from ui.cli.instance_verbs import markdown, register_instance
from ui.cli.options import UserError


def clustered(groups: int = 40, size: int = 4, noise: float = 0.35, seed: int = 0):
    """(vectors, groups): `size` noisy copies of `groups` random unit centres."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(groups, 16))
    labels = np.tile(np.arange(groups), size)
    vectors = centres[labels] + noise * rng.normal(size=(len(labels), 16))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32), labels


def test_separated_clusters_score_map_one():
    vectors, groups = clustered(noise=0.01)
    report = ev.evaluate_descriptor(vectors, groups, np.arange(0, 160, 7))
    assert report == {"map": 1.0, "precision_at_10": 0.3}  # 3 positives of 10 shown


def test_every_expansion_is_measured_with_its_added_time():
    vectors, groups = clustered(noise=0.6)
    queries = np.arange(0, 160, 3)
    settings = ExpansionSettings(qe_n=2, dba_k=2, graph_k=4, seeds=2, truncate=50)
    report = ev.evaluate_expansion(vectors, groups, queries, settings)
    assert set(report) == {
        "none",
        "aqe",
        "alpha_qe",
        "diffusion",
        "dba",
        "dba+alpha_qe",
        "dba+diffusion",
    }
    assert report["none"]["added_ms"] == 0.0
    assert report["none"]["map"] == ev.evaluate_descriptor(vectors, groups, queries)["map"]
    assert report["dba"]["offline_s"] >= 0 and all(0 <= r["map"] <= 1 for r in report.values())


def test_instance_gallery_holds_each_garment_in_every_variant():
    try:
        catalogue, groups = ev.instance_gallery("holdout", variants=3, garments=4)
    except DatasetMissingError:
        pytest.skip("the Fashion-MNIST train split is not installed")
    assert len(catalogue) == 12 and list(groups) == [58000, 58001, 58002, 58003] * 3
    ids = [item.id for item in catalogue.items]
    assert ids[:2] == ["train-58000", "train-58001"] and ids[4] == "train-58000-v1"
    with pytest.raises(ValueError, match="unknown instance split"):
        ev.instance_gallery("validation")


def test_cli_parses_and_refuses_a_missing_products_folder(tmp_path):
    parser = argparse.ArgumentParser()
    register_instance(parser.add_subparsers(dest="action"))
    args = parser.parse_args(["instance", "--catalogue", str(tmp_path / "none"), "--json"])
    assert args.queries == 1000 and args.split == "test"
    with pytest.raises(UserError, match="no such folder"):
        args.func(args)


def test_markdown_names_the_best_descriptor():
    report = {
        "descriptors": {
            "a": {"map": 0.1, "precision_at_10": 0.1},
            "b": {"map": 0.9, "precision_at_10": 0.4},
        },
        "best": "b",
        "expansion": {
            "none": {"map": 0.9, "precision_at_10": 0.4, "added_ms": 0.0, "offline_s": 0.0}
        },
        "settings": {"gallery": 8, "garments": 2, "queries": 2},
    }
    text = markdown(report)
    assert "| b (best) | 0.9000 | 0.4000 |" in text and "| none | 0.9000 |" in text


def test_other_colours_latency_figures(tmp_path, tiny_encoder):
    from eval.bench.instance import bench_other_colours
    from retrieval.catalogues import FmnistColorCatalogue
    from retrieval.indexing.local import build_index
    from retrieval.instance.descriptors import GemDescriptorEncoder
    from retrieval.instance.store import build_instance

    catalogue = FmnistColorCatalogue("test", limit=30)
    build_index(catalogue, tiny_encoder, progress=False).save(tmp_path / "index")
    settings = ExpansionSettings(graph_k=3, truncate=10)
    search = build_instance(
        tmp_path / "index", catalogue, GemDescriptorEncoder(tiny_encoder), settings, False
    )
    figures = bench_other_colours(search, queries=20, k=5)
    assert figures["queries"] == 20 and figures["gallery"] == 30
    assert 0 < figures["p50_ms"] <= figures["p95_ms"] and figures["target_p95_ms"] == 30.0
    assert figures["settings"]["method"] == "alpha_qe" and figures["settings"]["dba"]


@pytest.mark.slow
def test_liked_weight_replay_reports_hits_by_turn(tiny_weights):
    from eval.bench.instance import sweep_liked_weight

    out = sweep_liked_weight(
        (0.0, 0.5), dialogues=4, model=f"fashion-mini:{tiny_weights}", composer="sum"
    )
    assert set(out["selection"]) == {"0.0", "0.5"} and out["chosen"] in (0.0, 0.5)
    assert "0.0" in out["report"] and len(out["report"]["0.0"]["hits_by_turn"]) == 4
    assert all(0 <= v <= 1 for v in out["selection"].values())
