"""`circhat bench`: speed figures measured in one run, each beside its baseline.

- agent turn (Agent.step, no LLM, default composer) vs the bare encoder + FAISS search
  (eval/bench/agent.py), on fmnist-color or the catalogue given;
- index build throughput (fresh cache) vs the bare encoder forward pass on the same items
  (eval/bench/build.py);
- Flat / IVF-PQ / HNSW at large gallery sizes vs exact Flat (eval/bench/indexes.py);
- app cold start with an existing index vs importing torch + faiss + transformers + gradio
  (eval/bench/app.py);
- turns with suggestions vs the same turns without (eval/bench/agent.py);
- "other colours" turns vs the bare instance search (eval/bench/instance.py);
- end to end through the app with gradio_client: one session, 20 and 50 at once, and rule
  sessions beside a hung LLM endpoint (eval/bench/e2e.py).
"""

from __future__ import annotations

import logging
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from eval.bench.agent import bench_initiative, bench_turns, bench_uploads
from eval.bench.app import cold_start
from eval.bench.build import bench_build, bench_update
from eval.bench.e2e import E2EConfig, bench_e2e, quick_e2e
from eval.bench.indexes import IndexBenchConfig, bench_indexes
from eval.bench.instance import bench_other_colours_turns
from retrieval.catalogues import CatalogueRef
from retrieval.encoders import DEFAULT_MODEL

log = logging.getLogger(__name__)
TARGETS = {
    "turn_ratio": 1.3,  # agent p95 / bare p95
    "turn_p95_ms": 30.0,
    "build_ratio": 0.8,  # build items/s / bare encoder items/s
    "update_ratio": 0.05,  # rebuild after 1% of 10,000 photos changed / their full build
    "ivfpq_bytes_per_item": 64.0,
    "ivfpq_recall_at_10": 0.95,
    "ivfpq_p95_ms": 20.0,
    "cold_start_s": 10.0,
    "verified_open_ratio": 1.2,  # opening an index with its checksums checked / without
    "upload_p95_ms": 100.0,  # an upload turn on a catalogue of photos
    "initiative_p95_ms": 40.0,  # a turn with its suggestions
    "other_colours_p95_ms": 30.0,
    "e2e_single_p50_ms": 120.0,  # one session through the app
    "e2e_single_p95_ms": 200.0,
    "e2e_20_p95_ms": 600.0,  # 20 sessions x 5 turns at once
    "first_turn_ratio": 1.5,  # the first turn after a start, p95 over a later turn's
    "hung_llm_ratio": 1.5,  # rule sessions' p95 beside a hung LLM / without an LLM
}


@dataclass
class BenchConfig:
    model: str = DEFAULT_MODEL
    composer: str | None = None  # default: retrieval.compose.DEFAULT_COMPOSER
    turns: int = 300
    build_items: int = 5_000
    update_photos: int = 10_000  # a photo folder rebuilt after 1% of it changed
    gallery: str | None = None  # index folder of the catalogue (default: built)
    catalogue: CatalogueRef = field(default_factory=CatalogueRef)  # or a shop's folder
    seed: int = 0
    cold_start: bool = True
    indexes: IndexBenchConfig = field(default_factory=IndexBenchConfig)
    e2e: E2EConfig | None = field(default_factory=E2EConfig)  # None: no end-to-end run


def quick_config(model: str = DEFAULT_MODEL) -> BenchConfig:
    """Small sizes for a test: finishes in well under a minute."""
    return BenchConfig(
        model=model,
        turns=24,
        build_items=512,
        update_photos=300,
        indexes=IndexBenchConfig(sizes=(2_000,), queries=30, hnsw="HNSW16", ivf="IVF32,PQ16"),
        e2e=quick_e2e(),
    )


QUICK_CATALOGUE = "fmnist-color:test:1000"  # --quick on the default: its first 1,000 items


def _served(config: BenchConfig, quick: bool) -> tuple[CatalogueRef, Path]:
    """(catalogue, index folder) the agent serves: the default 10k gallery, or its
    first 1,000 items when quick; the index is built where it is missing."""
    default = config.catalogue == CatalogueRef()
    ref = CatalogueRef.parse(QUICK_CATALOGUE) if quick and default else config.catalogue
    return ref, Path(config.gallery or ref.index_dir(config.model))


def run_bench(config: BenchConfig, quick: bool = False, progress: bool = True) -> dict:
    """Every figure of `circhat bench` in one run."""
    from agent.factory import build_agent
    from retrieval.compose import DEFAULT_COMPOSER

    def say(message: str) -> None:
        if progress:
            log.info(message)

    spec, gallery = _served(config, quick)
    composer = config.composer or DEFAULT_COMPOSER
    agent = build_agent(config.model, spec, gallery, composer)
    catalogue = agent.gallery.catalogue
    say(f"agent turns on {len(agent.index)} items of {catalogue.name} ...")
    report = {"turn_ms": bench_turns(agent, config.turns, config.seed)}
    say("turns with and without suggestions ...")
    report["initiative_ms"] = bench_initiative(agent, config.turns, config.seed)
    say("other colours ...")
    report["other_colours_ms"] = bench_other_colours_turns(agent, 30 if quick else 300)
    say("upload turns ...")
    report["upload_turn_ms"] = bench_uploads(agent, catalogue, 24 if quick else 100, config.seed)
    say("build throughput ...")
    rounds = 1 if quick else 3
    report["build"] = bench_build(agent.encoder, catalogue, config.build_items, rounds=rounds)
    say(f"rebuild of {config.update_photos} photo files after 1% changed ...")
    report["update"] = bench_update(agent.encoder, catalogue, config.update_photos)
    if config.cold_start:  # before the indexes: their GBs of files evict the libraries' pages
        say("cold start ...")
        start = cold_start(config.model, gallery, config.composer, spec)
        report["cold_start_s"] = start["seconds"]
        report["cold_start"] = start
    if config.e2e is not None:
        say("end to end through the app ...")
        args = _app_args(config, spec, gallery, composer)
        report["e2e"] = bench_e2e(args, agent.schema, config.e2e)
    if config.indexes.sizes:
        say("indexes ...")
        report["indexes"] = bench_indexes(agent.encoder, config.indexes, progress)
    else:
        report["indexes"] = []
    report["machine"] = {"cpus": os.cpu_count(), "quick": quick}
    report["targets"] = TARGETS
    return report


def _app_args(config: BenchConfig, ref: CatalogueRef, gallery: Path, composer: str) -> list[str]:
    args = ["--model", config.model, "--index", str(gallery), "--composer", composer]
    return args + shlex.split(ref.command_line())


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


def _by_kind(row: dict) -> str:
    kinds = row.get("recall_by_query", {})
    return " / ".join(f"{kind} {value:.2f}" for kind, value in kinds.items())


def markdown_table(report: dict) -> str:
    """The bench figures, each beside its baseline and target."""
    t, b, c = report["turn_ms"], report["build"], report.get("cold_start", {})
    u = report["upload_turn_ms"]
    T = {**TARGETS, **report.get("targets", {})}  # noqa: N806 (the targets, read like a table)
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
        f"| upload turn p50/p95 (ms, a photo decoded, encoded, composed, searched) | "
        f"{u['p50']:.1f}/{u['p95']:.1f} | bare encode+search {u['bare']['p50']:.1f}/"
        f"{u['bare']['p95']:.1f} | {u['ratio_to_bare']:.2f}x | <= {T['upload_p95_ms']:g} ms | "
        f"{_met(u['p95'] <= T['upload_p95_ms'])} |",
        f"| index build (items/s, --no-cache) | {b['no_cache_items_per_s']:.0f} | bare encoder "
        f"{b['bare_items_per_s']:.0f} | {b['no_cache_ratio_to_bare']:.2f}x | | |",
        *_update_rows(report.get("update"), T),
    ]
    lines += _initiative_rows(report, T) + _e2e_rows(report.get("e2e"), report["turn_ms"], T)
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
        lines += _open_rows(r, T)
    if "cold_start_s" in report:
        lines.append(
            f"| cold start (s, {c['how']}) | {report['cold_start_s']:.2f} | import torch, faiss, "
            f"transformers, gradio {c['baseline_s']:.2f} | {report['cold_start_s'] / c['baseline_s']:.2f}x "
            f"| <= {T['cold_start_s']:g} s | {_met(report['cold_start_s'] <= T['cold_start_s'])} |"
        )
    return "\n".join(lines)


def _open_rows(row: dict, T: dict) -> list[str]:  # noqa: N803 (the targets)
    """The open times of an index row: its gallery's folder (Flat rows) or a whole saved
    folder of its factory (`saved_` keys)."""
    out = []
    for prefix in ("", "saved_"):
        if f"{prefix}open_s" not in row:
            continue
        ratio, target = row[f"{prefix}open_ratio"], T["verified_open_ratio"]
        out.append(
            f"| open {row['factory']} @ {row['n']:,} folder, checksums verified (s) | "
            f"{row[f'{prefix}open_verified_s']:.3f} | unverified {row[f'{prefix}open_s']:.3f} | "
            f"{ratio:.2f}x | <= {target:g}x | {_met(ratio <= target)} |"
        )
    return out


def _update_rows(update: dict | None, T: dict) -> list[str]:  # noqa: N803 (the targets)
    if not update:
        return []
    return [
        f"| rebuild after {update['replaced']} of {update['photos']:,} photos changed (s) | "
        f"{update['update_s']:.2f} | full build {update['full_build_s']:.2f} | "
        f"{update['update_ratio']:.3f}x | <= {T['update_ratio']}x | "
        f"{_met(update['update_ratio'] <= T['update_ratio'])} |"
    ]


def _initiative_rows(report: dict, T: dict) -> list[str]:  # noqa: N803 (the targets)
    i, o = report["initiative_ms"], report["other_colours_ms"]
    return [
        f"| turn with suggestions p50/p95 (ms) | {i['p50']:.2f}/{i['p95']:.2f} | the same turn "
        f"without {i['without']['p50']:.2f}/{i['without']['p95']:.2f} | "
        f"+{i['added_p95_ms']:.2f} ms | <= {T['initiative_p95_ms']:g} ms | "
        f"{_met(i['p95'] <= T['initiative_p95_ms'])} |",
        f"| other colours p50/p95 (ms, {o['gallery']} items) | {o['p50']:.2f}/{o['p95']:.2f} | "
        f"bare instance search {o['bare']['p50']:.2f}/{o['bare']['p95']:.2f} | "
        f"{o['ratio_to_bare']:.2f}x | <= {T['other_colours_p95_ms']:g} ms | "
        f"{_met(o['p95'] <= T['other_colours_p95_ms'])} |",
    ]


def _e2e_rows(e: dict | None, turn: dict, T: dict) -> list[str]:  # noqa: N803 (the targets)
    if not e:
        return []
    step = f"Agent.step {turn['p50']:.1f}/{turn['p95']:.1f}"
    one = e["single"]
    rows = [
        f"| end to end, 1 session p50/p95 (ms, gradio_client) | {one['p50']:.0f}/{one['p95']:.0f} "
        f"| {step} | {one['p95'] / turn['p95']:.1f}x | <= {T['e2e_single_p50_ms']:g}/"
        f"{T['e2e_single_p95_ms']:g} ms | {_met(one['p50'] <= T['e2e_single_p50_ms'] and one['p95'] <= T['e2e_single_p95_ms'])} |"
    ]
    first = e.get("first_turn", {})
    if "ratio" in first:
        rows.append(
            f"| first turn after start p95 (ms, {first['starts']} starts) | "
            f"{first['first_p95_ms']:.0f} | a later turn {first['later_p95_ms']:.0f} | "
            f"{first['ratio']:.2f}x | <= {T['first_turn_ratio']}x | "
            f"{_met(first['ratio'] <= T['first_turn_ratio'])} |"
        )
    for name, row in e.items():
        if not name.startswith("load_"):
            continue
        sessions, turns = name.removeprefix("load_").split("x")
        target, met = "zero errors", row["errors"] == 0 and row["mixed_up"] == 0
        if sessions == "20":
            target = f"p95 <= {T['e2e_20_p95_ms']:g} ms, zero errors"
            met = met and row["p95"] <= T["e2e_20_p95_ms"]
        rows.append(
            f"| end to end, {sessions} sessions x {turns} turns p50/p95 (ms), errors, mixed up | "
            f"{row['p50']:.0f}/{row['p95']:.0f}, {row['errors']}, {row['mixed_up']} | {step} | "
            f"{row['p95'] / turn['p95']:.1f}x | {target} | {_met(met)} |"
        )
    hung, base = e["hung_llm"], e["hung_baseline"]
    if "skipped" in hung:
        rows.append(f"| rule sessions beside a hung LLM | skipped: {hung['skipped']} | | | | |")
    else:
        ratio = hung["ratio_to_no_llm"]
        rows.append(
            f"| rule sessions' p95 (ms) beside {hung['llm_sessions']} waiting on a hung LLM | "
            f"{hung['rule_p95']:.0f} | the same sessions, no LLM {base['p95']:.0f} | "
            f"{ratio:.2f}x | <= {T['hung_llm_ratio']}x | {_met(ratio <= T['hung_llm_ratio'])} |"
        )
    return rows
