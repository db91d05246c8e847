"""`circhat bench`: speed figures measured in one run, each beside its baseline.

- agent turn (Agent.step, no LLM, default composer) vs the bare encoder + FAISS search;
- index build throughput (fresh cache) vs the bare encoder forward pass on the same items;
- Flat / IVF-PQ / HNSW at large gallery sizes vs exact Flat (eval/bench_indexes.py);
- app cold start with an existing index vs importing torch + faiss + transformers + gradio.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from eval.bench_indexes import IndexBenchConfig, bench_indexes
from retrieval.catalogues import fmnist_vocab as vocab

log = logging.getLogger(__name__)
TARGETS = {
    "turn_ratio": 1.3,  # agent p95 / bare p95
    "turn_p95_ms": 30.0,
    "build_ratio": 0.8,  # build items/s / bare encoder items/s
    "ivfpq_bytes_per_item": 64.0,
    "ivfpq_recall_at_10": 0.95,
    "ivfpq_p95_ms": 20.0,
    "cold_start_s": 10.0,
}


@dataclass
class BenchConfig:
    model: str = "fashion-mini"
    composer: str | None = None  # default: retrieval.compose.DEFAULT_COMPOSER
    turns: int = 300
    build_items: int = 5_000
    gallery: str | None = None  # index folder of the 10k fmnist-color gallery (default: built)
    seed: int = 0
    cold_start: bool = True
    indexes: IndexBenchConfig = field(default_factory=IndexBenchConfig)


def quick_config(model: str = "fashion-mini") -> BenchConfig:
    """Small sizes for a test: finishes in well under a minute."""
    return BenchConfig(
        model=model,
        turns=24,
        build_items=512,
        indexes=IndexBenchConfig(sizes=(2_000,), queries=30, hnsw="HNSW16", ivf="IVF32,PQ16"),
    )


def _percentiles(ms: list[float]) -> dict[str, float]:
    return {
        "p50": round(float(np.percentile(ms, 50)), 3),
        "p95": round(float(np.percentile(ms, 95)), 3),
    }


def _turns(agent, count: int, seed: int):
    """Seeded dialogues of three turns: a text turn, then two select + text turns."""
    from agent.agent import Turn
    from eval.single_turn import DEFAULT_PHRASEBOOK
    from retrieval.training.phrasebook import Phrasebook

    phrasebook = Phrasebook.load(DEFAULT_PHRASEBOOK)
    rng = np.random.default_rng(seed)
    state = None
    for i in range(count):
        if i % 3 == 0 or not state.last_results:
            state = agent.new_state()
            attrs = {a: v[rng.integers(len(v))] for a, v in vocab.ATTRIBUTES.items()}
            turn = Turn(text=vocab.caption(**attrs))
        else:
            picked = state.last_results[rng.integers(len(state.last_results))]
            attribute = ("color", "pattern")[rng.integers(2)]
            values = [v for v in vocab.ATTRIBUTES[attribute] if v != picked.attributes[attribute]]
            text = phrasebook.say({attribute: values[rng.integers(len(values))]}, rng)
            turn = Turn(select=picked.id, text=text)
        state = yield state, turn


def _forget_texts(encoder) -> None:
    """Empty the encoder's cache of recent texts (if it has one): the next encode is real."""
    getattr(encoder, "_text_cache", {}).clear()


def bench_turns(agent, count: int, seed: int = 0, warmup: int = 6) -> dict:
    """Agent.step latency vs the bare encoder (encode_texts of the same text) + FAISS search
    of the same query vector, turn by turn, interleaved so all see the same machine load.

    The headline figures are uncached: the encoder's text cache is emptied before each timed
    agent turn and each bare encode, so every text is encoded (a new phrasing). `cached`
    holds the agent as shipped, its text cache warm from earlier turns.
    """
    uncached, cached, bare_ms = [], [], []
    dialogue = _turns(agent, count + warmup, seed)
    state, turn = next(dialogue)
    for i in range(count + warmup):
        t = time.perf_counter()
        agent.step(state, turn)
        warm = (time.perf_counter() - t) * 1000
        _forget_texts(agent.encoder)
        t = time.perf_counter()
        state, _ = agent.step(state, turn)
        cold = (time.perf_counter() - t) * 1000
        query = np.asarray(state.last_query, np.float32)[None]
        _forget_texts(agent.encoder)
        t = time.perf_counter()
        agent.encoder.encode_texts([turn.text])
        agent.index.index.search(query, agent.config.k)
        bare = (time.perf_counter() - t) * 1000
        if i >= warmup:
            uncached.append(cold)
            cached.append(warm)
            bare_ms.append(bare)
        if i + 1 < count + warmup:
            state, turn = dialogue.send(state)
    agent_p, warm_p, bare_p = _percentiles(uncached), _percentiles(cached), _percentiles(bare_ms)
    return {
        **agent_p,
        "ratio_to_bare": round(agent_p["p95"] / bare_p["p95"], 3),
        "p50_ratio_to_bare": round(agent_p["p50"] / bare_p["p50"], 3),
        "bare": bare_p,
        "cached": {**warm_p, "ratio_to_bare": round(warm_p["p95"] / bare_p["p95"], 3)},
        "turns": count,
        "gallery": len(agent.index),
        "composer": agent.default_composer,
    }


def bench_build(encoder, count: int, batch_size: int | None = None, rounds: int = 3) -> dict:
    """build_index items/s with a fresh cache vs encode_images on the same rendered items;
    `rounds` alternating runs of each, medians (this machine's speed drifts run to run)."""
    from retrieval.catalogues import FmnistColorCatalogue
    from retrieval.indexing.embedding_cache import EmbeddingCache
    from retrieval.indexing.local import build_index

    catalogue = FmnistColorCatalogue("test", limit=count)
    images = list(catalogue.render(range(count)))
    batch_size = batch_size or encoder.batch_size  # the same batches for both
    encoder.encode_images(images[:batch_size], batch_size)  # warm-up
    bare, built, uncached = [], [], []
    for _ in range(rounds):
        t = time.perf_counter()
        encoder.encode_images(images, batch_size)
        bare.append(time.perf_counter() - t)
        with tempfile.TemporaryDirectory() as tmp:
            cache = EmbeddingCache(Path(tmp) / "cache")
            t = time.perf_counter()
            build_index(catalogue, encoder, "Flat", cache, batch_size, progress=False)
            built.append(time.perf_counter() - t)
            cache.close()
        t = time.perf_counter()
        build_index(catalogue, encoder, "Flat", None, batch_size, progress=False)
        uncached.append(time.perf_counter() - t)
    bare_s, build_s = float(np.median(bare)), float(np.median(built))
    uncached_s = float(np.median(uncached))
    return {
        "items_per_s": round(count / build_s, 1),
        "ratio_to_bare": round(bare_s / build_s, 3),
        "bare_items_per_s": round(count / bare_s, 1),
        "no_cache_items_per_s": round(count / uncached_s, 1),  # `index build --no-cache`
        "no_cache_ratio_to_bare": round(bare_s / uncached_s, 3),
        "items": count,
        "batch_size": batch_size,
        "rounds": rounds,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _time_subprocess(command: list[str], env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
    return time.perf_counter() - t


def cold_start(
    model: str, index_dir: str | Path, composer: str | None = None, timeout: float = 180.0
) -> dict:
    """Seconds from `circhat app` (an existing index) to its first HTTP 200, vs importing
    torch + faiss + transformers + gradio in a fresh interpreter (the floor of such an app).
    Both run after one untimed import, so the OS file cache is warm (an app restart)."""
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    imports = [sys.executable, "-c", "import torch, faiss, transformers, gradio"]
    _time_subprocess(imports, env)  # untimed: bring the libraries back into the page cache
    baseline = _time_subprocess(imports, env)
    port = _free_port()
    command = [sys.executable, "-m", "ui.cli", "app", "--port", str(port), "--model", model]
    command += ["--index", str(index_dir)] + (["--composer", composer] if composer else [])
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while time.perf_counter() - started < timeout:
            if proc.poll() is not None:
                raise RuntimeError(f"circhat app exited: {proc.stderr.read().decode()[-500:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"circhat app was not ready within {timeout:.0f} s")
        seconds = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {
        "seconds": round(seconds, 2),
        "how": "circhat app until HTTP 200",
        "baseline_s": round(baseline, 2),
    }


def _agent_gallery(config: BenchConfig, quick: bool) -> Path:
    """The index folder the agent serves: the default 10k gallery, or 1,000 items when quick."""
    from retrieval.index import MANIFEST_FILE
    from retrieval.paths import default_index_dir, home

    if config.gallery:
        return Path(config.gallery)
    if not quick:
        return default_index_dir("fmnist-color", config.model)
    from retrieval.catalogues import FmnistColorCatalogue
    from retrieval.encoders import load_encoder
    from retrieval.indexing.local import build_index

    tag = hashlib.sha256(config.model.encode()).hexdigest()[:10]
    folder = home() / "bench" / f"quick-gallery-{tag}"
    if not (folder / MANIFEST_FILE).exists():
        catalogue = FmnistColorCatalogue("test", limit=1000)
        build_index(catalogue, load_encoder(config.model), progress=False).save(folder)
    return folder


def run_bench(config: BenchConfig, quick: bool = False, progress: bool = True) -> dict:
    """Every figure of `circhat bench` in one run."""
    from agent.factory import build_agent
    from retrieval.compose import DEFAULT_COMPOSER

    def say(message: str) -> None:
        if progress:
            log.info(message)

    gallery = _agent_gallery(config, quick)
    agent, _ = build_agent(
        config.model, "fmnist-color", gallery, config.composer or DEFAULT_COMPOSER
    )
    say(f"agent turns on {len(agent.index)} items ...")
    report = {"turn_ms": bench_turns(agent, config.turns, config.seed)}
    say("build throughput ...")
    report["build"] = bench_build(agent.encoder, config.build_items, rounds=1 if quick else 3)
    if config.cold_start:  # before the indexes: their GBs of files evict the libraries' pages
        say("cold start ...")
        start = cold_start(config.model, gallery, config.composer)
        report["cold_start_s"] = start["seconds"]
        report["cold_start"] = start
    say("indexes ...")
    report["indexes"] = bench_indexes(agent.encoder, config.indexes, progress)
    report["machine"] = {"cpus": os.cpu_count(), "quick": quick}
    report["targets"] = TARGETS
    return report


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


def _by_kind(row: dict) -> str:
    kinds = row.get("recall_by_query", {})
    return " / ".join(f"{kind} {value:.2f}" for kind, value in kinds.items())


def markdown_table(report: dict) -> str:
    """The bench figures, each beside its baseline and target."""
    t, b, c = report["turn_ms"], report["build"], report.get("cold_start", {})
    T = report.get("targets", TARGETS)  # noqa: N806: the targets, read like a table
    lines = [
        "| figure | value | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|",
        f"| agent turn p50 (ms, {t['gallery']} items, {t['composer']}) | {t['p50']:.2f} | bare encode+search "
        f"{t['bare']['p50']:.2f} | {t['p50_ratio_to_bare']:.2f}x | | |",
        f"| agent turn p95 (ms) | {t['p95']:.2f} | bare encode+search {t['bare']['p95']:.2f} | "
        f"{t['ratio_to_bare']:.2f}x | <= {T['turn_ratio']}x, <= {T['turn_p95_ms']:g} ms | "
        f"{_met(t['ratio_to_bare'] <= T['turn_ratio'] and t['p95'] <= T['turn_p95_ms'])} |",
        f"| agent turn p50/p95 (ms), text cache warm | {t['cached']['p50']:.2f}/"
        f"{t['cached']['p95']:.2f} | bare {t['bare']['p50']:.2f}/{t['bare']['p95']:.2f} | "
        f"{t['cached']['ratio_to_bare']:.2f}x | | |",
        f"| index build (items/s, fresh cache) | {b['items_per_s']:.0f} | bare encoder "
        f"{b['bare_items_per_s']:.0f} | {b['ratio_to_bare']:.2f}x | >= {T['build_ratio']}x | "
        f"{_met(b['ratio_to_bare'] >= T['build_ratio'])} |",
        f"| index build (items/s, --no-cache) | {b['no_cache_items_per_s']:.0f} | bare encoder "
        f"{b['bare_items_per_s']:.0f} | {b['no_cache_ratio_to_bare']:.2f}x | | |",
    ]
    flat = {r["n"]: r for r in report["indexes"] if r["factory"] == "Flat"}
    for r in report["indexes"]:
        base = flat.get(r["n"], r)
        settings = ", ".join(f"{k}={v}" for k, v in r["settings"].items())
        name = f"{r['factory']} @ {r['n']:,}" + (f" ({settings})" if settings else "")
        name += ", mmap" if r.get("memory_mapped") else ""
        target, met = "", ""
        if "PQ" in r["factory"] and r["n"] >= 1_000_000:
            target = (
                f"<= {T['ivfpq_bytes_per_item']:g} B, recall >= {T['ivfpq_recall_at_10']}, "
                f"p95 <= {T['ivfpq_p95_ms']:g} ms"
            )
            met = _met(
                r["bytes_per_item"] <= T["ivfpq_bytes_per_item"]
                and r["recall_at_10"] >= T["ivfpq_recall_at_10"]
                and r["p95_ms"] <= T["ivfpq_p95_ms"]
            )
        lines.append(
            f"| {name}: B/item, build s, p50/p95 ms, recall@10 | {r['bytes_per_item']:.1f} B, "
            f"{r['build_s']:.1f} s, {r['p50_ms']:.2f}/{r['p95_ms']:.2f} ms, "
            f"{r['recall_at_10']:.3f} ({_by_kind(r)}) | Flat {base['bytes_per_item']:.0f} B, "
            f"{base['p50_ms']:.2f}/{base['p95_ms']:.2f} ms, 1.000 | "
            f"p95 {r['p95_ms'] / base['p95_ms']:.2f}x | {target} | {met} |"
        )
    if "cold_start_s" in report:
        lines.append(
            f"| cold start (s, {c['how']}) | {report['cold_start_s']:.2f} | import torch, faiss, "
            f"transformers, gradio {c['baseline_s']:.2f} | {report['cold_start_s'] / c['baseline_s']:.2f}x "
            f"| <= {T['cold_start_s']:g} s | {_met(report['cold_start_s'] <= T['cold_start_s'])} |"
        )
    return "\n".join(lines)
