"""`circhat serve` as real processes: several workers serve one session's turns, a server
killed with SIGKILL mid-dialogue and restarted loses nothing (SQLite and a real Redis), a
worker killed alone is replaced while the others serve, SIGTERM stops them all, and a 50 MB
upload is refused over a real socket."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from redis_server import redis_server

from eval.bench.api import serve_api, stop
from eval.bench.app import free_port

pytestmark = pytest.mark.slow
CATALOGUE = ["--catalogue", "fmnist-color:test:1000", "--composer", "sum", "--rate", "0"]
SESSIONS = 20
WORDS = ["a dress", "in blue", "with dots"]


def _turn(url: str, session: str, body: dict) -> dict:
    answer = httpx.post(f"{url}/v1/sessions/{session}/turns", json=body, timeout=120)
    assert answer.status_code == 200, answer.text
    return answer.json() | {"worker": answer.headers["x-worker"]}


def _first_two_turns(url: str) -> dict[str, dict]:
    """SESSIONS dialogues of two turns, served at once; each session's stored dialogue."""
    ids = [httpx.post(f"{url}/v1/sessions").json()["session_id"] for _ in range(SESSIONS)]

    def play(session: str) -> None:
        first = _turn(url, session, {"text": WORDS[0]})
        assert first["turns"] == 1
        second = _turn(url, session, {"pick": 1 + ids.index(session) % 5, "text": WORDS[1]})
        assert second["turns"] == 2 and second["session_id"] == session

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(play, ids))
    return {s: httpx.get(f"{url}/v1/sessions/{s}").json() for s in ids}


def _killed_and_restarted(args: list[str], env: dict) -> set[str]:
    """Two turns of each session, SIGKILL, restart: the third turn goes on from the same state;
    returns the workers that served the third turns."""
    with serve_api(args, env) as (url, proc):
        before = _first_two_turns(url)
        stop(proc, signal.SIGKILL)  # the whole group: supervisor and workers, no clean-up
    with serve_api(args, env) as (url, _):
        workers = set()
        for session, dialogue in before.items():
            assert httpx.get(f"{url}/v1/sessions/{session}").json() == dialogue
            third = _turn(url, session, {"text": WORDS[2]})
            workers.add(third["worker"])
            assert third["turns"] == 3 and third["session_id"] == session
            turns = httpx.get(f"{url}/v1/sessions/{session}").json()["turns"]
            assert turns[:2] == dialogue["turns"]
            assert [t["user_text"] for t in turns] == WORDS
    return workers


def test_four_workers_and_a_sigkill_lose_no_session(tmp_path):
    env = {"CIRCHAT_HOME": str(tmp_path / "home")}
    args = [*CATALOGUE, "--workers", "4", "--store", f"sqlite:{tmp_path / 'sessions.db'}"]
    workers = _killed_and_restarted(args, env)
    assert len(workers) >= 2, "turns were served by more than one worker"


def test_redis_sessions_survive_a_sigkill(tmp_path):
    with redis_server(tmp_path) as redis_url:
        env = {"CIRCHAT_HOME": str(tmp_path / "home")}
        args = [*CATALOGUE, "--workers", "2", "--store", redis_url]
        _killed_and_restarted(args, env)


def test_a_50_mb_upload_over_a_socket_is_refused(tmp_path):
    env = {"CIRCHAT_HOME": str(tmp_path / "home")}
    args = [*CATALOGUE, "--store", f"sqlite:{tmp_path / 's.db'}"]
    with serve_api(args, env) as (url, _):
        session = httpx.post(f"{url}/v1/sessions").json()["session_id"]
        files = {"image": ("huge.png", b"\0" * (50 * 1024 * 1024), "image/png")}
        answer = httpx.post(f"{url}/v1/sessions/{session}/turns", files=files, timeout=60)
        assert answer.status_code == 413 and answer.json()["error"]["code"] == "too_large"
        assert httpx.get(f"{url}/readyz").status_code == 200


def _workers_of(supervisor: int) -> set[int]:
    """The supervisor's forked workers: its children that run its own command line."""
    command = (Path("/proc") / str(supervisor) / "cmdline").read_bytes()
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            same = (stat.parent / "cmdline").read_bytes() == command
        except (OSError, IndexError, ValueError):
            continue
        if parent == supervisor and same:
            found.add(int(stat.parent.name))
    return found


def _wait_for(check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s")


def test_a_killed_worker_is_replaced_and_sigterm_stops_all(tmp_path):
    env = {"CIRCHAT_HOME": str(tmp_path / "home")}
    args = [*CATALOGUE, "--workers", "2", "--store", f"sqlite:{tmp_path / 's.db'}"]
    with serve_api(args, env) as (url, proc):
        workers = _wait_for(lambda: len(_workers_of(proc.pid)) == 2 and _workers_of(proc.pid))
        session = httpx.post(f"{url}/v1/sessions").json()["session_id"]
        victim = int(_turn(url, session, {"text": WORDS[0]})["worker"])
        assert victim in workers
        os.kill(victim, signal.SIGKILL)
        second = _turn(url, session, {"pick": 1, "text": WORDS[1]})  # the other worker serves
        assert second["turns"] == 2 and int(second["worker"]) != victim

        def replaced():
            now = _workers_of(proc.pid)
            return len(now) == 2 and victim not in now and now

        newcomer = (_wait_for(replaced) - workers).pop()
        served = {httpx.get(f"{url}/healthz").headers["x-worker"] for _ in range(60)}
        assert str(newcomer) in served, "the new worker serves requests"
        picture = httpx.get(url + second["results"][0]["image_url"]).content
        for _ in range(4):  # the image tower runs in forked workers (torch after fork)
            photo = {"image": ("garment.png", picture, "image/png")}
            answer = httpx.post(f"{url}/v1/sessions/{session}/turns", files=photo, timeout=120)
            assert answer.status_code == 200 and answer.json()["results"], answer.text
        workers = _workers_of(proc.pid)
        proc.send_signal(signal.SIGTERM)  # the supervisor alone: it stops its workers
        assert proc.wait(30) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_a_port_in_use_is_one_line_with_several_workers(tmp_path):
    import socket
    import subprocess
    import sys

    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen(1)
        args = [*CATALOGUE, "--workers", "2", "--store", f"sqlite:{tmp_path / 's.db'}"]
        done = subprocess.run(
            [sys.executable, "-m", "ui.cli", "-q", "serve", "--port", str(port), *args],
            env={**os.environ, "CIRCHAT_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"},
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr.strip().splitlines()[-1]
