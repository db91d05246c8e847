import json

import numpy as np
import pytest

from eval.bench.indexes import ann_recall_at_k, exact_top_k, ivf_factory
from eval.bench.suite import markdown_table
from ui.cli import main


def test_exact_top_k_matches_a_full_sort():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((70_000, 8)).astype(np.float32)  # more than one chunk
    queries = rng.standard_normal((5, 8)).astype(np.float32)
    expected = np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :10]
    np.testing.assert_array_equal(exact_top_k(vectors, queries, 10), expected)


def test_recall_at_k_counts_the_shared_rows():
    truth = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    found = [np.array([4, 3, 9, 10]), np.array([5, 6, 7, 8])]
    assert ann_recall_at_k(found, truth) == pytest.approx((0.5 + 1.0) / 2)
    assert ann_recall_at_k([np.array([], int), np.array([8])], truth) == pytest.approx(0.125)


def test_ivf_factory_scales_with_the_gallery():
    assert ivf_factory(1_000_000) == "IVF4096,PQ48"
    assert ivf_factory(100_000) == "IVF1024,PQ48"


@pytest.mark.slow
def test_quick_bench_reports_every_figure(tiny_weights, capsys):
    argv = [
        "bench",
        "--quick",
        "--json",
        "--model",
        f"fashion-mini:{tiny_weights}",
        "--composer",
        "sum",
    ]
    code = main(argv)
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    turn, build = report["turn_ms"], report["build"]
    assert 0 < turn["p50"] <= turn["p95"] and turn["ratio_to_bare"] > 0
    assert 0 < turn["bare"]["p50"] <= turn["bare"]["p95"] and turn["turns"] == 24
    assert build["items_per_s"] > 0 and build["ratio_to_bare"] > 0 and build["items"] == 512
    update = report["update"]
    assert (update["photos"], update["replaced"], update["encoded_by_update"]) == (300, 3, 3)
    assert update["update_s"] > 0 and 0 < update["update_ratio"] < 1
    factories = [(r["factory"], r["n"]) for r in report["indexes"]]
    assert factories == [("Flat", 2000), ("IVF32,PQ16", 2000), ("HNSW16", 2000)]
    for row in report["indexes"]:
        assert row["bytes_per_item"] > 0 and 0 < row["p50_ms"] <= row["p95_ms"]
        assert 0.0 <= row["recall_at_10"] <= 1.0 and row["memory_mapped"]
    flat, ivfpq, hnsw = report["indexes"]
    assert flat["recall_at_10"] == 1.0 and flat["bytes_per_item"] >= 384 * 4
    assert ivfpq["bytes_per_item"] < flat["bytes_per_item"] < hnsw["bytes_per_item"]
    assert ivfpq["settings"] == {"nprobe": 16, "rerank": 400}
    for row, prefix in ((flat, ""), (ivfpq, "saved_")):  # the gallery's folder, an IVF-PQ one
        assert row[f"{prefix}open_s"] > 0 and row[f"{prefix}open_verified_s"] > 0
        ratio = row[f"{prefix}open_verified_s"] / row[f"{prefix}open_s"]
        rounding = 0.0005 / row[f"{prefix}open_s"] * (1 + ratio) + 0.005  # times to 3 places
        assert abs(row[f"{prefix}open_ratio"] - ratio) <= rounding
    assert "saved_open_s" not in flat and "open_s" not in ivfpq
    assert report["cold_start_s"] > 0 and report["cold_start"]["baseline_s"] > 0
    initiative, colours = report["initiative_ms"], report["other_colours_ms"]
    assert 0 < initiative["p50"] <= initiative["p95"] and initiative["without"]["p95"] > 0
    assert 0 < colours["p50"] <= colours["p95"] and colours["gallery"] == 1000
    assert colours["bare"]["p95"] > 0 and colours["settings"]["items"] == 1000
    e2e = report["e2e"]
    assert e2e["single"]["turns"] == 6 and e2e["single"]["errors"] == 0
    assert 0 < e2e["single"]["p50"] <= e2e["single"]["p95"]
    load = e2e["load_4x2"]
    assert (load["turns"], load["errors"], load["mixed_up"]) == (8, 0, 0)
    first = e2e["first_turn"]  # the first turn after a start against the later ones
    assert first["starts"] == 2 and len(first["first_ms"]) == 2
    assert first["first_p95_ms"] > 0 and first["later_p95_ms"] > 0 and first["ratio"] > 0
    hung = e2e["hung_llm"]
    assert "skipped" in hung or (hung["errors"] == 0 and hung["ratio_to_no_llm"] > 0)
    table = markdown_table(report)
    assert "end to end, 1 session" in table and "other colours p50/p95" in table
    assert "turn with suggestions" in table and "first turn after start p95" in table
    assert "rebuild after 3 of 300 photos" in table
    assert "open IVF32,PQ16 @ 2,000 folder, checksums verified" in table


def test_the_paired_timer_runs_each_case_in_order_and_drops_the_warmup():
    from eval.bench.timing import interleaved, versus_bare

    calls = []
    times = interleaved(
        range(5),
        {"turn": lambda c: calls.append(("turn", c)), "bare": lambda c: calls.append(("bare", c))},
        warmup=2,
        before={"bare": lambda c: calls.append(("before bare", c))},
    )
    assert calls[:3] == [("turn", 0), ("before bare", 0), ("bare", 0)] and len(calls) == 15
    assert [len(t) for t in times.values()] == [3, 3] and all(m >= 0 for m in times["turn"])
    summary = versus_bare([1.0, 2.0, 3.0], [1.0, 1.0, 1.0])
    assert summary == {
        "p50": 2.0,
        "p95": 2.9,
        "bare": {"p50": 1.0, "p95": 1.0},
        "ratio_to_bare": 2.9,
    }
