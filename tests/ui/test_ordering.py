"""A browser session's events run one at a time, in order, each on the session the last left."""

from __future__ import annotations

import threading
import time
from typing import NamedTuple

import pytest
from pydantic import BaseModel

from ui.ordering import SessionOrder


class Record(BaseModel):
    said: list[str] = []
    version: int = 0


class Out(NamedTuple):
    session: Record
    note: str


def saying(word: str, seconds: float = 0.0, log: list | None = None):
    def act(session: Record) -> Out:
        if log is not None:
            log.append(("start", word, time.monotonic()))
        time.sleep(seconds)
        if log is not None:
            log.append(("end", word, time.monotonic()))
        return Out(session.model_copy(update={"said": [*session.said, word]}), word)

    return act


def test_events_of_one_session_run_in_order_on_what_the_last_one_left():
    order = SessionOrder(slots=4)
    stale = Record()  # every event starts from the state the page had when it was sent
    outs: dict[str, Out] = {}
    log: list = []

    def fire(word: str, seconds: float) -> None:
        outs[word] = order.run("tab-1", stale, saying(word, seconds, log))

    first = threading.Thread(target=fire, args=("a dress", 0.3))
    first.start()
    time.sleep(0.05)  # the second message is sent while the first runs
    second = threading.Thread(target=fire, args=("with stripes", 0.0))
    second.start()
    time.sleep(0.05)
    assert order.waiting("tab-1") == 2 and "with stripes" not in outs  # waits, not dropped
    first.join()
    second.join()
    assert outs["a dress"].session.said == ["a dress"]
    assert outs["with stripes"].session.said == ["a dress", "with stripes"]
    assert [o.session.version for o in outs.values()] == [1, 2]
    first_end = max(t for kind, word, t in log if kind == "end" and word == "a dress")
    second_start = min(t for kind, word, t in log if kind == "start" and word == "with stripes")
    assert second_start - first_end >= order.settle_s * 0.9  # the first answer goes out first
    assert order.waiting("tab-1") == 0
    # a later event whose own state is newer than the hand-off starts from its own
    newer = Record(said=["undone"], version=5)
    assert order.run("tab-1", newer, saying("red")).session.said == ["undone", "red"]


def test_sessions_run_side_by_side_within_the_slots():
    order = SessionOrder(slots=2)
    log: list = []
    threads = [
        threading.Thread(target=order.run, args=(f"tab-{i}", Record(), saying(str(i), 0.2, log)))
        for i in range(3)
    ]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - started
    events = sorted(log, key=lambda e: e[2])
    running, most = 0, 0
    for kind, _, _ in events:
        running += 1 if kind == "start" else -1
        most = max(most, running)
    assert most == 2  # two sessions at once, never three
    assert 0.35 < took < 0.9  # two rounds of 0.2 s, not three


def test_a_failing_event_lets_the_next_one_run():
    order = SessionOrder(slots=1)

    def broken(session: Record) -> Out:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        order.run("tab", Record(), broken)
    assert order.run("tab", Record(), saying("next")).session.said == ["next"]
    assert order.waiting("tab") == 0


def test_idle_hand_offs_are_forgotten():
    order = SessionOrder(slots=1, ttl_s=0.0)
    order.run("old", Record(), saying("a"))
    order.run("new", Record(), saying("b"))
    assert order.waiting("old") == 0 and "old" not in order._lines
