"""End-to-end turns for `circhat bench`: the app served on an ephemeral localhost port, driven
through `gradio_client` as shoppers' browsers would be (its `/send` endpoint), one session and
many at once, and with an LLM endpoint that never answers.

Each session is a `gradio_client.Client` of its own (its own Gradio session and state); a turn
is timed from `predict` to its answer. A turn counts as an error when it raises, and as mixed
up when the chat it gets back does not end with this session's own message.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from eval.bench.app import serve
from eval.bench.timing import all_at_once, percentiles

VAGUE = "something with more of a holiday vibe, you know"  # words no schema maps: the LLM's


@dataclass
class E2EConfig:
    """The sessions driven: (sessions, turns each) for one session and two concurrent loads,
    and the hung-LLM run (rule-based sessions beside `llm_sessions` waiting on the LLM)."""

    single_turns: int = 30
    loads: tuple[tuple[int, int], ...] = ((20, 5), (50, 3))
    hung_sessions: int = 16
    hung_turns: int = 5
    llm_sessions: int = 4
    llm_turns: int = 2  # each waits for the LLM's 10 s timeout, or falls back when busy
    concurrency: int = 4  # the app's --concurrency (its default)
    starts: int = 5  # app starts whose first turn is timed against the turns after it
    first_later_turns: int = 4  # turns after the first, per start
    seed: int = 0
    extra: dict = field(default_factory=dict)


def quick_e2e() -> E2EConfig:
    return E2EConfig(
        single_turns=6,
        loads=((4, 2),),
        hung_sessions=3,
        hung_turns=2,
        llm_sessions=2,
        llm_turns=1,
        starts=2,
        first_later_turns=3,
    )


@contextlib.contextmanager
def hung_endpoint() -> Iterator[str]:
    """An OpenAI-compatible base URL whose server accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(server.accept()[0])  # read nothing, answer nothing

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        server.close()


def session_messages(schema, turns: int, rng: np.random.Generator) -> list[str]:
    """A request of random attribute values, then refinements of one attribute each."""
    from eval.bench.agent import _edited, turn_phrasebook

    phrasebook = turn_phrasebook(schema)
    values = {a: schema.attributes[a].values for a in schema.categorical}
    attrs = {a: v[rng.integers(len(v))] for a, v in values.items()}
    messages = [schema.caption(attrs)]
    edited = _edited(schema)
    for _ in range(turns - 1):
        attribute = edited[rng.integers(len(edited))]
        options = [v for v in values[attribute] if v != attrs.get(attribute)]
        attrs[attribute] = options[rng.integers(len(options))]
        messages.append(phrasebook.say({attribute: attrs[attribute]}, rng))
    return messages


def _last_user_line(outputs) -> str:
    for value in outputs if isinstance(outputs, (list, tuple)) else [outputs]:
        if isinstance(value, list) and value and isinstance(value[0], dict) and "role" in value[0]:
            users = [m for m in value if m.get("role") == "user"]
            content = users[-1]["content"] if users else ""
            if isinstance(content, list):  # Gradio 6 messages: [{"type": "text", "text": ...}]
                content = " ".join(str(c.get("text", "")) for c in content if isinstance(c, dict))
            return str(content)
    return ""


def drive(url: str, scripts: list[list[str]]) -> dict:
    """Every script (a session's messages) on its own client, all at once; per-turn ms."""
    from gradio_client import Client

    clients = [
        Client(url, verbose=False, download_files=False) for _ in scripts
    ]  # connected before timing
    times: list[list[float]] = [[] for _ in scripts]
    errors, mixed = [0] * len(scripts), [0] * len(scripts)
    barrier = threading.Barrier(len(scripts))

    def run(i: int) -> None:
        barrier.wait()
        for message in scripts[i]:
            started = time.perf_counter()
            try:
                outputs = clients[i].predict(message, api_name="/send")
            except Exception:  # noqa: BLE001 (any failure of a turn is counted, not raised)
                errors[i] += 1
                continue
            times[i].append((time.perf_counter() - started) * 1000)
            if message[:40] not in _last_user_line(outputs):
                mixed[i] += 1

    wall = all_at_once(run, [(i,) for i in range(len(scripts))])
    for client in clients:
        with contextlib.suppress(Exception):
            client.close()
    flat = [ms for row in times for ms in row]
    return {
        **(percentiles(flat) if flat else {"p50": None, "p95": None}),
        "sessions": len(scripts),
        "turns": sum(len(s) for s in scripts),
        "errors": sum(errors),
        "mixed_up": sum(mixed),
        "wall_s": round(wall, 2),
        "per_session_ms": times,
    }


def _rule_scripts(schema, sessions: int, turns: int, seed: int) -> list[list[str]]:
    rng = np.random.default_rng([seed, sessions, turns])
    return [session_messages(schema, turns, rng) for _ in range(sessions)]


def _summary(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "per_session_ms"}


def first_turns(app_args: list[str], schema, config: E2EConfig) -> dict:
    """The first turn after the app answers, against the turns after it: `config.starts`
    fresh apps, each driven by one session from its first HTTP 200 (nothing untimed
    before), p95 of the first turns over p95 of the later ones."""
    first, later = [], []
    for start in range(config.starts):
        script = _rule_scripts(schema, 1, 1 + config.first_later_turns, config.seed + start)
        with serve(app_args) as url:
            row = drive(url, script)
        times = row["per_session_ms"][0]
        if len(times) == len(script[0]) and not row["errors"]:
            first.append(times[0])
            later += times[1:]
    if not first or not later:
        return {"starts": config.starts, "error": "no start answered every turn"}
    p_first, p_later = percentiles(first)["p95"], percentiles(later)["p95"]
    return {
        "starts": config.starts,
        "first_p95_ms": p_first,
        "later_p95_ms": p_later,
        "ratio": round(p_first / p_later, 2),
        "first_ms": [round(t, 1) for t in first],
    }


def bench_e2e(app_args: list[str], schema, config: E2EConfig) -> dict:
    """One session, the concurrent loads, then rule sessions beside sessions waiting on a hung
    LLM endpoint against the same rule sessions on the rules-only app; and the first turn
    after a start against the later ones."""
    report: dict = {"concurrency": config.concurrency}
    args = [*app_args, "--concurrency", str(config.concurrency)]
    if config.starts:
        report["first_turn"] = first_turns(args, schema, config)
    with serve(args) as url:
        drive(url, _rule_scripts(schema, 1, 3, config.seed + 99))  # warm-up, untimed
        report["single"] = _summary(drive(url, _rule_scripts(schema, 1, config.single_turns, 0)))
        for sessions, turns in config.loads:
            scripts = _rule_scripts(schema, sessions, turns, config.seed)
            report[f"load_{sessions}x{turns}"] = _summary(drive(url, scripts))
        rule_scripts = _rule_scripts(schema, config.hung_sessions, config.hung_turns, 7)
        report["hung_baseline"] = _summary(drive(url, rule_scripts))
    report["hung_llm"] = _hung_llm(args, schema, rule_scripts, config)
    base, hung = report["hung_baseline"]["p95"], report["hung_llm"].get("rule_p95")
    if base and hung:
        report["hung_llm"]["ratio_to_no_llm"] = round(hung / base, 3)
    return report


def _hung_llm(args: list[str], schema, rule_scripts: list[list[str]], config: E2EConfig) -> dict:
    """Rule sessions on an app whose LLM (hybrid:openai) hangs, while `llm_sessions` others send
    words only the LLM could read."""
    try:
        import langchain_openai  # noqa: F401
    except ImportError:
        return {"skipped": "needs `pip install langchain-openai` (--rewriter openai)"}
    vague = [
        [f"{VAGUE} #{i}.{t}" for t in range(config.llm_turns)] for i in range(config.llm_sessions)
    ]
    with hung_endpoint() as base_url:
        env = {"CIRCHAT_LLM_BASE_URL": base_url, "CIRCHAT_LLM_MODEL": "hung"}
        with serve([*args, "--rewriter", "hybrid:openai"], env) as url:
            warm_up = [*_rule_scripts(schema, 1, 3, config.seed + 99), [f"{VAGUE} warm-up"]]
            drive(url, warm_up)  # untimed: the LLM client's first call (it times out) included
            both = drive(url, [*rule_scripts, *vague])
    rules = both["per_session_ms"][: len(rule_scripts)]
    waiting = both["per_session_ms"][len(rule_scripts) :]
    flat = [ms for row in rules for ms in row]
    return {
        "rule_sessions": len(rule_scripts),
        "llm_sessions": config.llm_sessions,
        "rule_p95": percentiles(flat)["p95"] if flat else None,
        "rule_p50": percentiles(flat)["p50"] if flat else None,
        "llm_turn_p50": percentiles([m for r in waiting for m in r])["p50"] if waiting else None,
        "errors": both["errors"],
        "mixed_up": both["mixed_up"],
    }
