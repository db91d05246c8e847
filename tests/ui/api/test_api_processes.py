"""`circhat serve` as real processes: several workers serve one session's turns, a server
killed with SIGKILL mid-dialogue and restarted loses nothing (SQLite and a real Redis), and a
50 MB upload is refused over a real socket."""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from redis_server import redis_server

from eval.bench.api import serve_api, stop

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
