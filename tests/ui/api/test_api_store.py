"""The session stores (SQLite and a real Redis server): records, versions, expiry, size."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
from redis_server import redis_server

from ui.api.models import TurnRequest
from ui.api.sessions import Sessions
from ui.api.store import (
    SessionConflict,
    SessionMissing,
    SessionTooLarge,
    SqliteStore,
    open_store,
)


@pytest.fixture(params=["sqlite", "redis"])
def make_store(request, tmp_path):
    """A factory of stores of one kind, all on the same database."""
    if request.param == "sqlite":
        yield lambda **kw: SqliteStore(tmp_path / "s.db", **kw)
        return
    with redis_server(tmp_path) as url:
        yield lambda **kw: open_store(url, **kw)


def test_records_versions_and_deletion(make_store):
    store = make_store()
    store.create("a", '{"n": 1}')
    assert store.load("a") == ('{"n": 1}', 1) and store.version("a") == 1
    assert store.save("a", '{"n": 2}', 1) == 2 and store.version("a") == 2
    assert store.version("b") is None
    other = make_store()  # another process's view of the same store
    assert other.load("a") == ('{"n": 2}', 2)
    with pytest.raises(SessionConflict):
        other.save("a", '{"n": 3}', 1)  # saved meanwhile: the turn built on version 1 is refused
    with pytest.raises(SessionMissing):
        store.save("b", "{}", 1)
    assert store.load("b") is None
    assert store.delete("a") and not store.delete("a") and store.load("a") is None


def test_two_turns_of_one_version_cannot_both_be_saved(make_store):
    store = make_store()
    store.create("s", "{}")
    won, lost = [], []

    def save(i: int) -> None:
        try:
            won.append(make_store().save("s", f'{{"by": {i}}}', 1))
        except SessionConflict:
            lost.append(i)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert won == [2] and len(lost) == 7
    assert store.load("s").version == 2


def test_records_expire_and_are_bounded(make_store):
    store = make_store(ttl_s=1, max_bytes=100)
    store.create("s", "{}")
    with pytest.raises(SessionTooLarge):
        store.save("s", "x" * 101, 1)
    with pytest.raises(SessionTooLarge):
        store.create("t", "x" * 101)
    time.sleep(2.1)
    assert store.load("s") is None


def test_open_store_names(tmp_path):
    assert isinstance(open_store(f"sqlite:{tmp_path / 'x.db'}"), SqliteStore)
    for bad in ("postgres://x", "sqlite:", "sessions.db"):
        with pytest.raises(ValueError, match="use sqlite:PATH or redis://"):
            open_store(bad)


def test_a_long_dialogue_drops_its_oldest_undo_steps_to_fit(app_agent, tmp_path):
    agent, _ = app_agent
    store = SqliteStore(tmp_path / "s.db", max_bytes=60_000)
    sessions = Sessions(agent, store)
    session = sessions.create().session_id
    for words in ("a red dress", "in blue", "with stripes", "in green", "dotted", "in black"):
        sessions.turn(session, TurnRequest(text=words))
    state, _ = sessions.load(session)
    assert len(state.turns) == 6 and 0 < len(state.undo_stack) < 6
    assert len(state.model_dump_json()) <= 60_000
    tiny = Sessions(agent, SqliteStore(tmp_path / "t.db", max_bytes=3_000))
    session = tiny.create().session_id
    with pytest.raises(Exception, match="too long to keep"):
        tiny.turn(session, TurnRequest(text="a red dress"))


def test_a_worker_reads_a_session_again_once_another_worker_saved_it(app_agent, tmp_path):
    """Each worker keeps the states it saved, and uses one only while the store's version is
    still the one it saved: turns alternating between two workers see every turn."""
    agent, _ = app_agent
    one, two = (Sessions(agent, SqliteStore(tmp_path / "s.db")) for _ in range(2))
    session = one.create().session_id
    one.turn(session, TurnRequest(text="a red dress"))
    kept, version = one.load(session)
    assert kept is one.recent.get(session, version)  # from memory: not read back
    two.turn(session, TurnRequest(text="in blue"))  # the other worker's turn
    answer = one.turn(session, TurnRequest(text="with stripes"))
    assert answer.turns == 3 and answer.version == 4
    state, _ = two.load(session)
    assert [t.user_text for t in state.turns] == ["a red dress", "in blue", "with stripes"]
    one.delete(session)
    assert not one.recent.holds(session)
    with pytest.raises(Exception, match="no session"):
        two.load(session)


def test_a_store_that_goes_away_is_503_not_a_traceback(app_agent, tmp_path):
    from api_fixtures import make_client

    with redis_server(tmp_path) as url, make_client(app_agent, tmp_path, store=url) as client:
        assert client.get("/readyz").status_code == 200
        session = client.post("/v1/sessions").json()["session_id"]
        assert (
            client.post(f"/v1/sessions/{session}/turns", json={"text": "a dress"}).status_code
            == 200
        )
        stop = client.app.state.ctx.store.client.shutdown  # the server itself goes away
        with contextlib.suppress(Exception):
            stop(nosave=True)
        for answer in (
            client.get("/readyz"),
            client.post(f"/v1/sessions/{session}/turns", json={"text": "in red"}),
            client.post("/v1/sessions"),
        ):
            assert answer.status_code == 503, answer.text
            assert answer.json()["error"]["code"] == "store_unreachable"


def test_a_session_keeps_its_last_ten_undo_steps(app_agent, tmp_path):
    from ui.api.sessions import MAX_UNDO_STEPS

    agent, _ = app_agent
    sessions = Sessions(agent, SqliteStore(tmp_path / "s.db"))
    session = sessions.create().session_id
    words = ["a dress", "in blue", "in red", "with dots", "in green", "plain"] * 2
    for text in words:
        sessions.turn(session, TurnRequest(text=text))
    state, _ = sessions.load(session)
    assert len(state.turns) == 12 and len(state.undo_stack) == MAX_UNDO_STEPS == 10
    for _ in range(MAX_UNDO_STEPS):
        sessions.turn(session, TurnRequest(undo=True))
    state, _ = sessions.load(session)
    assert [t.user_text for t in state.turns] == words[:2]
    answer = sessions.turn(session, TurnRequest(undo=True))
    assert answer.reply == "Nothing to undo." and answer.turns == 2
