"""`circhat bench --api --quick`: a real server process, an HTTP client, Agent.step beside;
the memory each extra worker adds, from /proc's PSS."""

from __future__ import annotations

import json

import pytest

from eval.bench.api import extra_per_worker, kilobytes
from ui.cli import main

pytestmark = pytest.mark.usefixtures("restore_logging")
ROLLUP = """55d0c0000000-7ffd0000000 ---p 00000000 00:00 0                          [rollup]
Rss:              972800 kB
Pss:              337920 kB
Pss_Anon:         120000 kB
Shared_Clean:     630000 kB
Private_Clean:      2048 kB
Private_Dirty:    100352 kB
"""


def test_smaps_rollup_lines_are_read_inkilobytes():
    read = kilobytes(ROLLUP)
    assert (read["Rss"], read["Pss"], read["Private_Clean"] + read["Private_Dirty"]) == (
        972800,
        337920,
        102400,
    )


def test_extra_per_worker_is_the_pss_growth_over_the_extra_workers():
    assert extra_per_worker({"pss_total_mb": 1400}, {"pss_total_mb": 800}, 4) == 200
    assert extra_per_worker({"pss_total_mb": 976}, {"pss_total_mb": 758}, 2) == 218
    assert (
        extra_per_worker(
            {"pss_anon_total_mb": 700}, {"pss_anon_total_mb": 600}, 3, "pss_anon_total_mb"
        )
        == 50
    )


@pytest.mark.slow
def test_bench_api_on_two_workers_reports_their_shared_memory(capsys):
    args = ["-q", "bench", "--api", "--quick", "--json", "--catalogue", "fmnist-color:test:1000"]
    assert main([*args, "--composer", "sum", "--workers", "2"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["workers"] == 2 and report["load_4x2"]["errors"] == 0
    with_two, with_one = report["memory"], report["memory_one_worker"]
    assert len([p for p in with_two["processes"] if p["rss_mb"] > 300]) == 3  # loader + 2
    assert report["extra_pss_per_worker_mb"] == with_two["pss_total_mb"] - with_one["pss_total_mb"]
    assert report["extra_pss_per_worker_mb"] <= 300  # issue 28's figure: pages are shared
    anon = with_two["pss_anon_total_mb"] - with_one["pss_anon_total_mb"]
    assert report["extra_anon_pss_per_worker_mb"] == anon


@pytest.mark.slow
def test_bench_api_times_turns_beside_agent_step(capsys):
    args = ["-q", "bench", "--api", "--quick", "--json", "--catalogue", "fmnist-color:test:1000"]
    assert main([*args, "--composer", "sum"]) == 0
    report = json.loads(capsys.readouterr().out)
    single = report["single"]
    assert single["turns"] == 6 and single["api"]["p50"] > 0 and single["agent_step"]["p50"] > 0
    assert single["p50_ratio"] == round(single["api"]["p50"] / single["agent_step"]["p50"], 3)
    load = report["load_4x2"]
    assert (load["sessions"], load["turns"], load["errors"], load["mixed_up"]) == (4, 8, 0, 0)
    assert report["memory"]["processes"] and report["memory"]["pss_total_mb"] > 50


@pytest.mark.slow
def test_bench_api_on_two_ray_serve_replicas(capsys):
    pytest.importorskip("ray.serve", reason="Ray Serve needs the ray[serve] extra (grpc)")
    args = ["-q", "bench", "--api", "--quick", "--json", "--catalogue", "fmnist-color:test:1000"]
    assert main([*args, "--composer", "sum", "--replicas", "2"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["replicas"] == 2 and report["single"]["turns"] == 6
    load = report["load_4x2"]
    assert (load["sessions"], load["turns"], load["errors"], load["mixed_up"]) == (4, 8, 0, 0)
    replicas = [p for p in report["memory"]["processes"] if p["rss_mb"] > 300]
    assert len(replicas) >= 2  # both replicas hold a model and an index: counted
