"""`circhat serve --ray`: two Ray Serve replicas of the API on this machine, their sessions in
SQLite or a real redis-server; dialogues whose turns go to both replicas get exactly the
answers of one in-process app on the same turns."""

from __future__ import annotations

import contextlib
import os

import httpx
import pytest
from fastapi.testclient import TestClient
from redis_server import redis_server

from eval.bench.app import free_port
from retrieval.catalogues import CatalogueRef
from ui.api.app import ServeConfig, create_app
from ui.api.limits import Limits

pytestmark = pytest.mark.slow
SESSIONS = 3
DIALOGUE = [
    {"text": "a dress"},
    {"pick": 2, "text": "in blue"},
    {"text": "with dots"},
    {"text": "without stripes"},
    {"undo": True},
    {"pick": "test-00042"},
    {"text": "not red"},
]
UNSHARED = ("session_id", "timings")  # the session's own id; the ms of its own process


def _config(store: str) -> ServeConfig:
    return ServeConfig(
        catalogue=CatalogueRef.parse("fmnist-color:test:1000"),
        composer="sum",
        store=store,
        limits=Limits(rate_per_minute=0),
    )


def _answer(response) -> dict:
    assert response.status_code == 200, response.text
    return {k: v for k, v in response.json().items() if k not in UNSHARED}


@contextlib.contextmanager
def _shared_store(kind: str, folder):
    if kind == "redis":
        with redis_server(folder) as url:
            yield url
    else:
        yield f"sqlite:{folder / 'replicas.db'}"


@pytest.fixture(params=["sqlite", "redis"])
def replicas(request, tmp_path, monkeypatch):
    """The URL of two Ray Serve replicas (Ray started here, two CPUs), their sessions in the
    store of the param, and the test's folder."""
    pytest.importorskip("ray.serve", reason="Ray Serve needs the ray[serve] extra (grpc)")
    import ray

    from ui.api import ray_serve

    monkeypatch.setenv("CIRCHAT_HOME", str(tmp_path / "home"))  # the replicas inherit it
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    store = contextlib.ExitStack()
    config = _config(store.enter_context(_shared_store(request.param, tmp_path)))
    with TestClient(create_app(_config(f"sqlite:{tmp_path / 'one.db'}"))):
        pass  # builds the catalogue's index once, before the replicas memory-map it
    port = free_port()
    try:
        ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
        ray_serve.start(config, replicas=2, port=port)
    except Exception as err:  # noqa: BLE001 (the reason is the skip's)
        ray.shutdown()
        store.close()
        pytest.skip(f"Ray Serve cannot start here: {str(err).splitlines()[0]}")
    try:
        yield f"http://127.0.0.1:{port}", tmp_path
    finally:
        ray_serve.stop()
        ray.shutdown()
        store.close()


def test_turns_served_by_two_replicas_equal_one_process(replicas):
    url, tmp_path = replicas
    served: dict[str, list[str]] = {}
    across: dict[str, list[dict]] = {}
    with httpx.Client(base_url=url, timeout=120) as http:
        ids = [http.post("/v1/sessions").json()["session_id"] for _ in range(SESSIONS)]
        for body in DIALOGUE:  # the sessions' turns interleaved, each routed by Serve
            for session in ids:
                response = http.post(f"/v1/sessions/{session}/turns", json=body)
                served.setdefault(session, []).append(response.headers["x-worker"])
                across.setdefault(session, []).append(_answer(response))
        stored = {s: http.get(f"/v1/sessions/{s}").json()["turns"] for s in ids}
    workers = {w for turns in served.values() for w in turns}
    assert len(workers) == 2 and str(os.getpid()) not in workers
    switches = sum(a != b for turns in served.values() for a, b in zip(turns, turns[1:]))
    assert switches >= 1, "no session's next turn went to the other replica"
    with TestClient(create_app(_config(f"sqlite:{tmp_path / 'one.db'}"))) as one:
        for session in ids:
            own = one.post("/v1/sessions").json()["session_id"]
            alone = [_answer(one.post(f"/v1/sessions/{own}/turns", json=b)) for b in DIALOGUE]
            assert across[session] == alone
            assert stored[session] == one.get(f"/v1/sessions/{own}").json()["turns"]
    assert [a["turns"] for a in across[ids[0]]] == [1, 2, 3, 4, 3, 4, 5]
    assert across[ids[0]][0]["results"] and across[ids[0]][0]["caption"]
