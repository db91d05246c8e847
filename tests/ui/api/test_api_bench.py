"""`circhat bench --api --quick`: a real server process, an HTTP client, Agent.step beside."""

from __future__ import annotations

import json

import pytest

from ui.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("restore_logging")]


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
