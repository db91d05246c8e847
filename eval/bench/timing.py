"""The one paired timer: a turn and the bare operation it wraps, timed one after the other on
the same cases (so both see the same machine load), summarised as percentiles."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np


def percentiles(ms: list[float]) -> dict[str, float]:
    return {
        "p50": round(float(np.percentile(ms, 50)), 3),
        "p95": round(float(np.percentile(ms, 95)), 3),
    }


def all_at_once(run: Callable[..., object], args: Iterable[tuple]) -> float:
    """Run `run(*a)` for every `a` of `args` at once, a thread each; the wall seconds until
    the last one ends (concurrent load: sessions, clients)."""
    threads = [threading.Thread(target=run, args=a) for a in args]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def interleaved(
    cases: Iterable[Any],
    runs: dict[str, Callable[[Any], object]],
    warmup: int = 0,
    before: dict[str, Callable[[Any], object]] | None = None,
) -> dict[str, list[float]]:
    """Milliseconds of each of `runs` on every case, the runs one after the other in their
    order for each case.

    Args:
        cases: what each run is given, in turn (a generator may depend on the runs' effects).
        runs: name -> the timed call.
        warmup: the first cases, run but not kept.
        before: name -> an untimed call just before that run (emptying a cache, a setting).
    Returns:
        name -> the kept times, in ms.
    """
    before = before or {}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for i, case in enumerate(cases):
        for name, run in runs.items():
            if name in before:
                before[name](case)
            started = time.perf_counter()
            run(case)
            ms = (time.perf_counter() - started) * 1000
            if i >= warmup:
                times[name].append(ms)
    return times


def versus_bare(turn_ms: list[float], bare_ms: list[float]) -> dict:
    """The turn's percentiles, the bare operation's, and the ratio of their p95s."""
    turn, bare = percentiles(turn_ms), percentiles(bare_ms)
    return {**turn, "bare": bare, "ratio_to_bare": round(turn["p95"] / bare["p95"], 3)}
