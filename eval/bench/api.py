"""`circhat bench --api`: turns through `circhat serve` (a separate process, called with a real
HTTP client) beside `Agent.step` on the same turns in this process.

One session: each scripted turn is sent to the API, then played on the agent here, one after
the other (the same machine load), so their percentiles compare. Then sessions at once, each
on its own HTTP client and thread: a turn is an error when it fails, and mixed up when its
answer is not its own session's next turn.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from eval.bench.app import free_port, wait_until_answered
from eval.bench.timing import all_at_once, percentiles

ROOT = Path(__file__).resolve().parents[2]
RAY_REPLICA = "ray::ServeReplica"  # the process title of a Ray Serve replica


@dataclass
class ApiBenchConfig:
    single_turns: int = 30
    loads: tuple[tuple[int, int], ...] = ((20, 5), (100, 3))
    workers: int = 1
    replicas: int = 0  # > 0: `circhat serve --ray --replicas N` instead of uvicorn's workers
    seed: int = 0


def quick_api() -> ApiBenchConfig:
    return ApiBenchConfig(single_turns=6, loads=((4, 2),))


@contextlib.contextmanager
def serve_api(
    args: list[str], env: dict | None = None, timeout: float = 300.0
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`circhat serve ARGS` on a free localhost port, in its own process group, until
    /readyz answers; yields (URL, process). Stopped (the whole group) on exit."""
    port = free_port()
    command = [sys.executable, "-m", "ui.cli", "-q", "serve", "--port", str(port), *args]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_answered(
                url + "/readyz",
                proc,
                "circhat serve",
                lambda: _tail(log),
                timeout,
                request_timeout=2.0,
            )
            yield url, proc
        finally:
            stop(proc, signal.SIGTERM)


def _tail(log) -> str:
    """The last lines a server wrote to its log file."""
    log.seek(0)
    return log.read().decode()[-1500:]


def stop(proc: subprocess.Popen, how: int = signal.SIGKILL) -> None:
    """Signal the server's whole process group (its workers too) and wait for it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, how)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)


def group_memory(pgid: int, title: str | None = None) -> dict:
    """Memory of the server's processes (its process group, and those whose command line
    starts with `title`: Ray's replicas), in MB, from Linux /proc: each one's RSS (its resident
    pages, shared ones included), PSS (each shared page divided among the processes that map
    it) and USS (its private pages only), and the group's PSS and USS totals. The PSS total
    counts the pages the workers share once; it is the figure to compare between runs. Its
    anonymous part (heap: loaded weights, index, Python objects) is shared only by forking;
    the file-backed rest (libraries, memory-mapped files) is shared with any process that maps
    the same files, this benchmark's own agent included, so it is given apart too."""
    rows = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            named = title and (stat.parent / "cmdline").read_bytes().startswith(title.encode())
            if int(fields[2]) != pgid and not named:  # the fields after the name: state, ppid, pgrp
                continue
            rollup = kilobytes((stat.parent / "smaps_rollup").read_text())
        except (OSError, IndexError, ValueError):
            continue
        uss = rollup["Private_Clean"] + rollup["Private_Dirty"]
        rows.append(
            {
                "pid": int(stat.parent.name),
                "rss_mb": rollup["Rss"] // 1024,
                "pss_mb": rollup["Pss"] // 1024,
                "uss_mb": uss // 1024,
                "pss_anon_mb": rollup.get("Pss_Anon", 0) // 1024,
            }
        )
    return {
        "processes": sorted(rows, key=lambda r: -r["rss_mb"]),
        "pss_total_mb": sum(r["pss_mb"] for r in rows),
        "uss_total_mb": sum(r["uss_mb"] for r in rows),
        "pss_anon_total_mb": sum(r["pss_anon_mb"] for r in rows),
    }


def kilobytes(rollup: str) -> dict[str, int]:
    """smaps_rollup's 'Name:  123 kB' lines as {name: kB}."""
    out = {}
    for line in rollup.splitlines()[1:]:
        name, _, rest = line.partition(":")
        if rest.strip().endswith("kB"):
            out[name] = int(rest.split()[0])
    return out


def extra_per_worker(with_n: dict, with_one: dict, workers: int, key: str = "pss_total_mb") -> int:
    """MB each worker beyond the first adds: the PSS total (or `key`'s) with N workers less the
    total with one, over N - 1 (the same turns served by both)."""
    return round((with_n[key] - with_one[key]) / (workers - 1))


def scripts(schema, sessions: int, turns: int, seed: int) -> list[list[dict]]:
    """Each session's turn bodies: a request, then picks of a result (rank 1-5) with words."""
    from eval.bench.e2e import session_messages

    rng = np.random.default_rng([seed, sessions, turns])
    out = []
    for _ in range(sessions):
        messages = session_messages(schema, turns, rng)
        bodies = [{"text": messages[0]}]
        bodies += [{"pick": int(rng.integers(1, 6)), "text": m} for m in messages[1:]]
        out.append(bodies)
    return out


def fit_pick(body: dict, shown: int) -> dict:
    """The body with its pick within the `shown` results of the last turn (none: no pick)."""
    if "pick" not in body:
        return body
    if not shown:
        return {k: v for k, v in body.items() if k != "pick"}
    return {**body, "pick": min(body["pick"], shown)}


def step_body(agent, state, body: dict):
    """The same turn played on the agent in this process."""
    from agent.agent import Turn

    body = fit_pick(body, len(state.last_results))
    turn = Turn(text=body.get("text", ""))
    if "pick" in body:
        turn.select = state.last_results[body["pick"] - 1].id
    return agent.step(state, turn)[0]


def single_session(url: str, agent, bodies: list[dict], warmup: int = 3) -> dict:
    """One session, each turn through the API then on the agent: ms of each, and ratios."""
    import httpx

    api_ms, step_ms = [], []
    with httpx.Client(base_url=url, timeout=60) as client:
        session = client.post("/v1/sessions").json()["session_id"]
        state, shown = agent.new_state(), 0
        for i, body in enumerate(bodies):
            started = time.perf_counter()
            answer = client.post(f"/v1/sessions/{session}/turns", json=fit_pick(body, shown))
            answer.raise_for_status()
            shown = len(answer.json()["results"])
            api = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            state = step_body(agent, state, body)
            step = (time.perf_counter() - started) * 1000
            if i >= warmup:
                api_ms.append(api)
                step_ms.append(step)
    api, step = percentiles(api_ms), percentiles(step_ms)
    return {
        "turns": len(api_ms),
        "api": api,
        "agent_step": step,
        "p50_ratio": round(api["p50"] / step["p50"], 3),
        "p95_ratio": round(api["p95"] / step["p95"], 3),
    }


def drive(url: str, all_bodies: list[list[dict]]) -> dict:
    """Every session at once, each on its own client and thread; per-turn ms and failures."""
    import httpx

    clients = [httpx.Client(base_url=url, timeout=120) for _ in all_bodies]
    times: list[float] = []
    errors, mixed = [0], [0]
    lock, barrier = threading.Lock(), threading.Barrier(len(all_bodies))

    def run(client, bodies: list[dict]) -> None:
        try:
            session = client.post("/v1/sessions").json()["session_id"]
        except Exception:  # noqa: BLE001 (counted, not raised)
            session = None
        barrier.wait()
        shown = 0
        for number, body in enumerate(bodies, 1):
            started = time.perf_counter()
            try:
                answer = client.post(f"/v1/sessions/{session}/turns", json=fit_pick(body, shown))
                ok, out = answer.status_code == 200, answer.json()
            except Exception:  # noqa: BLE001
                ok, out = False, {}
            shown = len(out.get("results", [])) if ok else shown
            ms = (time.perf_counter() - started) * 1000
            with lock:
                if not ok:
                    errors[0] += 1
                    continue
                times.append(ms)
                mixed[0] += out.get("session_id") != session or out.get("turns") != number

    wall = all_at_once(run, zip(clients, all_bodies))
    for client in clients:
        client.close()
    return {
        **(percentiles(times) if times else {"p50": None, "p95": None}),
        "sessions": len(all_bodies),
        "turns": sum(len(b) for b in all_bodies),
        "errors": errors[0],
        "mixed_up": mixed[0],
        "wall_s": round(wall, 2),
    }


def bench_api(agent, server_args: list[str], config: ApiBenchConfig) -> dict:
    """The API's figures: one session against Agent.step, then the concurrent loads, then the
    server's memory. With several uvicorn workers, the same turns are served again by one
    worker, for the memory each extra worker adds."""
    report = serve_and_drive(agent, server_args, config)
    if config.workers > 1 and not config.replicas:
        one = serve_and_drive(agent, server_args, replace(config, workers=1))["memory"]
        report["memory_one_worker"] = one
        report["extra_pss_per_worker_mb"] = extra_per_worker(report["memory"], one, config.workers)
        report["extra_anon_pss_per_worker_mb"] = extra_per_worker(
            report["memory"], one, config.workers, "pss_anon_total_mb"
        )
    return report


def serve_and_drive(agent, server_args: list[str], config: ApiBenchConfig) -> dict:
    """One server's run: the single session, the loads, and then its memory."""
    with tempfile.TemporaryDirectory() as folder:
        scale = ["--ray", "--replicas", str(config.replicas)] if config.replicas else []
        scale = scale or ["--workers", str(config.workers)]
        args = [*server_args, *scale, "--rate", "0"]
        args += ["--store", f"sqlite:{Path(folder) / 'sessions.db'}"]
        with serve_api(args) as (url, proc):
            report: dict = {"workers": config.workers, "how": "httpx from this process"}
            report |= {"replicas": config.replicas} if config.replicas else {}
            schema = agent.schema
            single = scripts(schema, 1, config.single_turns + 3, config.seed)[0]
            report["single"] = single_session(url, agent, single)
            for sessions, turns in config.loads:
                bodies = scripts(schema, sessions, turns, config.seed + 1)
                report[f"load_{sessions}x{turns}"] = drive(url, bodies)
            report["memory"] = group_memory(proc.pid, RAY_REPLICA if config.replicas else None)
    return report


def api_markdown(report: dict) -> str:
    one = report["single"]
    served = f"`circhat serve`, {report['workers']} worker(s)"
    if report.get("replicas"):
        served = f"`circhat serve --ray`, {report['replicas']} Ray Serve replicas"
    lines = [
        f"| API ({served}) | figure |",
        "|---|---|",
        f"| one session, {one['turns']} turns: API p50 / p95 | {one['api']['p50']:.1f} / "
        f"{one['api']['p95']:.1f} ms |",
        f"| Agent.step p50 / p95 (same turns, same run) | {one['agent_step']['p50']:.1f} / "
        f"{one['agent_step']['p95']:.1f} ms |",
        f"| ratio p50 / p95 (targets <= 1.3 / 1.5) | {one['p50_ratio']:.2f} / "
        f"{one['p95_ratio']:.2f} |",
    ]
    for name, row in report.items():
        if name.startswith("load_"):
            p95 = f"{row['p95']:.0f} ms" if row["p95"] is not None else "-"
            lines.append(
                f"| {row['sessions']} sessions x {row['turns'] // row['sessions']} turns: "
                f"p95, errors, mixed up | {p95}, {row['errors']}, {row['mixed_up']} |"
            )
    memory = report.get("memory")
    if memory:
        each = ", ".join(f"{r['rss_mb']}/{r['pss_mb']}/{r['uss_mb']}" for r in memory["processes"])
        lines.append(
            f"| server memory: RSS/PSS/USS of each process; PSS of all | {each} MB; "
            f"{memory['pss_total_mb']} MB |"
        )
    if "extra_pss_per_worker_mb" in report:
        one = report["memory_one_worker"]["pss_total_mb"]
        lines.append(
            f"| memory each extra worker adds: (PSS of all with {report['workers']} workers - "
            f"with 1: {one} MB) / {report['workers'] - 1} (target <= 300) | "
            f"{report['extra_pss_per_worker_mb']} MB |"
        )
        lines.append(
            f"| the same, anonymous pages only (PSS_Anon; no library or mapped file) | "
            f"{report['extra_anon_pss_per_worker_mb']} MB |"
        )
    return "\n".join(lines)
