"""Ground truth of "this style in other colours" on photo catalogues, and its Oxford scores."""

from __future__ import annotations

import argparse
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from eval import instance as ev
from eval.instance_photos import methods_of, plot_map, precision_ceiling
from eval.instance_truth import (
    InstanceTruth,
    colourway_truth,
    instance_truth,
    oxford_scores,
    query_rows,
    style_key,
    title_truth,
)
from retrieval.catalogues.base import Item
from retrieval.catalogues.split import in_test
from ui.cli.instance_verbs import markdown, register_instance
from ui.cli.options import UserError


def shop(rows: list[tuple[str, str, str]], colour_role: bool = True):
    """A catalogue of (title, colour, group) rows with a 'shade' colour attribute."""
    values = sorted({c for _, c, _ in rows})
    schema = SimpleNamespace(
        by_role=lambda role: ["shade"] if role == "color" and colour_role else [],
        attributes={"shade": SimpleNamespace(values=values)},
    )
    items = [Item(f"i{n}", {"shade": c}, title=t, group=g) for n, (t, c, g) in enumerate(rows)]
    return SimpleNamespace(items=items, schema=schema)


def test_titles_without_colour_words_make_styles_of_two_colours_or_more():
    catalogue = shop(
        [
            ("Nike Men Blue Running Shoes", "Blue", ""),
            ("Nike Men Black Running Shoes", "Black", ""),
            ("Puma Teal Cap", "Teal", ""),
            ("Puma Teal Cap", "Teal", ""),  # one colour only: not a style in other colours
            ("Plain Navy Blue Tee", "Navy Blue", ""),
        ]
    )
    truth = title_truth(catalogue)
    assert truth.source == "titles" and truth.styles == 1
    assert truth.groups[0] == truth.groups[1] == 0 and len(set(truth.groups[2:])) == 3
    assert list(truth.relevant(0)) == [1] and list(truth.junk(0)) == [0]
    words = {"navy", "blue", "teal"}  # the schema's values
    assert style_key("Plain Navy Blue Tee", words) == "plain tee"
    assert instance_truth(catalogue).source == "titles"  # no groups: titles


def test_the_shops_groups_come_first_and_its_own_colour_is_junk():
    catalogue = shop(
        [
            ("Hoodie", "Black", "H"),
            ("Hoodie", "Grey", "H"),
            ("Hoodie (2nd photo)", "Black", "H"),  # same colour: junk for item 0
            ("Cap", "Red", "C"),
            ("Cap", "Red", "C"),  # one colour only: not kept
            ("Beanie", "Red", ""),
        ]
    )
    truth = instance_truth(catalogue)
    assert truth.source == "colourways" and truth.styles == 1
    assert list(truth.relevant(0)) == [1] and list(truth.junk(0)) == [0, 2]
    assert list(truth.relevant(1)) == [0, 2] and len(set(truth.groups[3:])) == 3
    assert colourway_truth(shop([("Cap", "Red", "")] * 2)) is None


def test_without_a_colour_role_every_other_item_of_the_group_is_relevant():
    catalogue = shop([("Tee", "Red", "T"), ("Tee", "Red", "T"), ("Tee", "Red", "T")], False)
    truth = colourway_truth(catalogue)
    assert list(truth.relevant(0)) == [1, 2] and list(truth.junk(0)) == [0]


def test_oxford_scores_leave_out_junk_and_count_every_relevant_item():
    truth = InstanceTruth(
        groups=np.array([0, 0, 0, 0, 1, 1]),
        colours=np.array([0, 1, 0, 2, 3, 4]),
        source="colourways",
        styles=2,
    )
    rankings = np.array([[0, 2, 4, 1, 5, 3], [4, 5, 0, 1, -1, -1]])
    # query 0: junk 0, 2 dropped -> [4, 1, 5, 3]: hits at 2 and 4, AP (1/2 + 2/4) / 2 = 0.5
    # query 4: junk 4 dropped -> [5, 0, 1]: AP 1.0
    assert oxford_scores(rankings, truth, np.array([0, 4])) == {
        "map": 0.75,
        "precision_at_10": 0.15,
    }
    only_first = np.array([[1, -1, -1]])  # relevant 3 never found: it adds 0
    assert oxford_scores(only_first, truth, np.array([0]))["map"] == 0.5


def test_nearest_neighbour_search_is_scored_with_the_truth():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(30, 16))
    groups = np.repeat(np.arange(30), 3)
    vectors = centres[groups] + 0.01 * rng.normal(size=(90, 16))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    truth = InstanceTruth(groups, np.arange(90) % 3, "colourways", 30)
    assert ev.evaluate_descriptor(vectors, truth, np.arange(0, 90, 5)) == {
        "map": 1.0,
        "precision_at_10": 0.2,
    }
    sameish = InstanceTruth(groups, np.array([0, 0, 1] * 30), "colourways", 30)
    assert ev.evaluate_descriptor(vectors, sameish, np.array([0]))["precision_at_10"] == 0.1


def test_queries_come_from_the_test_part_and_have_relevant_items():
    rows = [(f"Tee {n}", colour, f"g{n}") for n in range(60) for colour in ("Red", "Blue")]
    rows += [("Lonely Scarf", "Red", "")]
    catalogue = shop(rows)
    truth = instance_truth(catalogue)
    chosen = query_rows(catalogue, truth, 1000, seed=0)
    assert len(chosen) > 0 and all(in_test(catalogue.items[r]) for r in chosen)
    assert len(chosen) == sum(in_test(i) for i in catalogue.items[:-1])  # every one of them
    assert len(query_rows(catalogue, truth, 5, seed=0)) == 5
    assert precision_ceiling(truth, chosen) == 0.1  # one other colour each
    assert list(query_rows(catalogue, truth, 5, 1)) == list(query_rows(catalogue, truth, 5, 1))


def photo_report() -> dict:
    row = {"map": 0.5, "precision_at_10": 0.2, "added_ms": 0.1, "offline_s": 0.0}
    names = ("none", "aqe", "alpha_qe", "diffusion", "dba", "dba+alpha_qe", "dba+diffusion")
    return {
        "descriptors": {
            "GeM": {"map": 0.4, "precision_at_10": 0.1},
            "colour-invariant GeM": {"map": 0.5, "precision_at_10": 0.2},
        },
        "best": "colour-invariant GeM",
        "expansion": {n: {**row, "map": 0.5 + i / 100} for i, n in enumerate(names)},
        "settings": {
            "gallery": 90,
            "garments": 30,
            "queries": 18,
            "truth": "titles",
            "query_part": "test",
        },
    }


def test_the_report_is_a_table_of_methods_and_a_plot(tmp_path):
    report = photo_report()
    methods = methods_of(report)
    assert list(methods)[:3] == ["GeM", "colour-invariant GeM", "colour-invariant GeM +alpha-QE"]
    assert methods["colour-invariant GeM +diffusion"]["map"] == 0.53
    text = markdown(report)
    assert "| colour-invariant GeM +DBA | 0.5400 | 0.2000 |" in text
    assert "truth: titles, queries from the test part" in text
    png = plot_map(report, tmp_path / "plot" / "map.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_cli_refuses_a_missing_photo_model(tmp_path):
    parser = argparse.ArgumentParser()
    register_instance(parser.add_subparsers(dest="action"))
    argv = ["instance", "--catalogue", str(tmp_path), "--model", f"photo:{tmp_path}/none"]
    args = parser.parse_args(argv)
    with pytest.raises(UserError, match="--model photo:.*no such folder"):
        args.func(args)


def test_expansion_parameters_are_chosen_on_validation_and_scored_on_test():
    from eval.instance_tuning import GRIDS, tune_expansion
    from retrieval.instance.query import ExpansionSettings

    rng = np.random.default_rng(1)
    centres = rng.normal(size=(40, 16))
    groups = np.repeat(np.arange(40), 3)
    vectors = centres[groups] + 0.9 * rng.normal(size=(120, 16))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    truth = InstanceTruth(groups, np.arange(120) % 3, "colourways", 40)
    base = ExpansionSettings(truncate=30)
    out = tune_expansion(vectors, truth, np.arange(0, 60, 2), np.arange(60, 120, 2), base)
    assert list(out) == ["none", "alpha_qe", "dba", "diffusion"]
    assert out["diffusion"]["tried"] == 12 and set(out["dba"]["chosen"]) == set(GRIDS["dba"])
    plain = ev.evaluate_descriptor(vectors, truth, np.arange(60, 120, 2))
    assert out["none"]["test"]["map"] == plain["map"]
    assert all(out[m]["validation"]["map"] >= 0 and 0 <= out[m]["test"]["map"] <= 1 for m in out)
    for method in GRIDS:  # the test figure is what the benchmark gives with those parameters
        chosen = replace(base, **out[method]["chosen"])
        again = ev.evaluate_expansion(vectors, truth, np.arange(60, 120, 2), chosen)[method]
        assert again["map"] == out[method]["test"]["map"], method
    report = {**photo_report(), "tuned": out}
    assert "| tuned on validation, colour-invariant GeM |" in markdown(report)


def test_a_shopify_export_is_scored_by_its_own_colourways(tmp_path):
    import importlib.util
    from pathlib import Path

    from retrieval.catalogues import FolderCatalogue

    path = Path(__file__).parents[1] / "retrieval" / "catalogues" / "shop_exports.py"
    spec = importlib.util.spec_from_file_location("shop_exports", path)
    exports = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(exports)
    catalogue = FolderCatalogue(tmp_path, exports.write_shopify(tmp_path))
    truth = instance_truth(catalogue)
    rows = {item.id: row for row, item in enumerate(catalogue.items)}
    assert truth.source == "colourways" and truth.styles == 1  # the hoodie, black and grey
    assert list(truth.relevant(rows["HD-BLK-S"])) == [rows["HD-GRY-S"]]
    assert len(truth.relevant(rows["LS-1"])) == 0
