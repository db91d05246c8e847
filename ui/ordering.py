"""The app's events of one browser session run one at a time, in the order the shopper sent
them, each on the session the previous one left, and their answers reach the page in that
order; turns of different sessions run side by side, at most `slots` at once.

Gradio runs every event it is sent (the page fires them with trigger_mode="multiple", so a
message sent while a turn runs is not dropped), but four things can go wrong on their own:

- Order of arrival: two events sent within a few milliseconds reach the server on separate
  requests and may start in either order. The page numbers its events (`STAMP`, a counter
  of the page) and they run by that number; an event with no number (an API client) takes
  the next one on arrival. A number that never arrives (its request failed) is skipped once
  the session has waited `gap_s` for it.
- State: Gradio reads a session's `gr.State` when an event starts, so a second event started
  while the first runs would get the state from before the first. The session each event
  leaves is handed to the next (by `Session.version`, the newer of the hand-off and the
  event's own state wins).
- Order of answers: each event is a generator that yields its answer once
  (`SessionOrder.answers`); Gradio turns a yielded value into the page's update and puts it
  on the session's message stream before it resumes the generator, and only that resumption
  lets the next event start. Should Gradio never resume it (the page went away), the next
  event starts `delivery_s` after the answer was computed.
- Order in which the page applies answers: Gradio's page applies the outputs of each event
  it has in flight as that event's messages come in, with no order between two events (each
  has its own async loop, and an event's completion message carries its outputs again).
  When both answers reach a busy page in one burst, the first one's may be applied last and
  the chat falls back to the first turn (issue 27: seen 1 run in 30-40 beside 3-4 busy
  processes). So the page sends an event to the server only once it has applied the answers
  of its earlier events: `STAMP` waits until `ANSWERED` (run after each numbered event,
  success or failure) has counted them, at most `PAGE_WAIT_S`. Gradio reads an event's
  inputs at the click, before `STAMP` runs, so a message sent meanwhile is kept as sent.

Hand-offs of sessions with no event in flight are forgotten after `ttl_s`; the dialogue itself
lives in the page's `gr.State` as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

HANDOFF_TTL_S = 120.0  # a hand-off outlives its session's last event by this long
# the next event of a session waits at most this long for the last one's answer to be sent
DELIVERY_S = 10.0
# ... and at most this long for an earlier-numbered event that has not arrived
GAP_S = 5.0

log = logging.getLogger(__name__)

# the page sends an event at most this long after it was fired while an earlier one of the
# page is still unanswered (a turn takes seconds; the wait ends sooner only if the page lost
# count, e.g. its connection)
PAGE_WAIT_S = 60.0

# the page's side: the event's last input becomes the page's next event number, and the event
# goes to the server once the page has applied the answers of the events numbered before it
STAMP = """async (...inputs) => {
    const page = (window.circhatEvents = window.circhatEvents || {sent: 0, answered: 0});
    const number = ++page.sent;
    const fired = Date.now();
    while (page.answered < number - 1 && Date.now() - fired < WAIT_MS) {
        await new Promise(wake => setTimeout(wake, 20));
    }
    return [...inputs.slice(0, -1), number];
}""".replace("WAIT_MS", str(int(PAGE_WAIT_S * 1000)))
# ... run on the page after each numbered event, once its outputs are applied
ANSWERED = """() => {
    const page = (window.circhatEvents = window.circhatEvents || {sent: 0, answered: 0});
    page.answered += 1;
}"""


@dataclass
class _Line:
    """One browser session's queue: the number whose turn it is, the numbers waiting, the one
    running (and when its answer was computed: None while it computes), the next number for
    an unnumbered event, and the session its last event left."""

    serving: int = 0
    waiting: set[int] = field(default_factory=set)
    running: int | None = None
    computed: float | None = None
    issued: int = 0
    latest: Any = None
    moved: float = field(default_factory=time.monotonic)  # when `serving` last changed
    touched: float = field(default_factory=time.monotonic)


class SessionOrder:
    """Runs each session's events in order, at most `slots` turns of all sessions at once.

    Args:
        slots: turns computed at once across sessions (waiting turns hold no slot).
        ttl_s: how long a session's hand-off is kept after its last event.
        delivery_s: how long the next event waits for an answer computed but not yet sent.
        gap_s: how long a numbered event waits for a lower number that has not arrived.
    """

    def __init__(
        self,
        slots: int,
        ttl_s: float = HANDOFF_TTL_S,
        delivery_s: float = DELIVERY_S,
        gap_s: float = GAP_S,
    ):
        self._changed = threading.Condition()
        self._lines: dict[str, _Line] = {}
        self._slots = threading.BoundedSemaphore(max(1, slots))
        self.ttl_s, self.delivery_s, self.gap_s = ttl_s, delivery_s, gap_s

    def waiting(self, key: str | None) -> int:
        """Events of session `key` taken in and not yet answered."""
        with self._changed:
            line = self._lines.get(key)
            return 0 if line is None else len(line.waiting) + (line.running is not None)

    def answers(
        self,
        key: str | None,
        session,
        act: Callable[[Any], tuple],
        computes: bool = True,
        number: int | None = None,
    ) -> Iterator[tuple]:
        """Yields `act(session)` once, after the earlier events of session `key` have been
        answered, on the newest session (this event's `session` or the one the last event
        left): a NamedTuple whose `session` is the one it leaves. The next event of `key`
        starts when this generator is resumed (or closed). `number`: the page's number of
        this event (1, 2, ...; None: the next on arrival). `computes`: takes one of the
        shared slots while `act` runs (a search; a pick only records a click)."""
        if key is None:  # called directly (tests, scripts): nothing to order
            yield self._stamped(session, act, computes)
            return
        with self._changed:
            line = self._lines.get(key) or self._lines.setdefault(key, _new_line(session, number))
            ticket = number if number is not None else line.issued
            line.issued = max(line.issued, ticket + 1)
            line.waiting.add(ticket)
            arrived = time.monotonic()
            log.debug(
                "session %s: event %s in as ticket %d (serving %d, running %s, waiting %s)",
                *(key[:8], number, ticket, line.serving, line.running, sorted(line.waiting)),
            )
            while not self._may_start(line, ticket):
                self._changed.wait(timeout=0.05 if line.waiting else None)
            line.waiting.discard(ticket)
            line.running, line.computed = ticket, None
            newest = _newest(session, line.latest)
            started = time.monotonic()
        outcome = "failed"
        try:
            out = self._stamped(newest, act, computes)
            with self._changed:
                line.latest, line.computed = out.session, time.monotonic()
            outcome = "not resumed"
            yield out  # Gradio sends it to the page, then resumes this generator
            outcome = "sent"
        finally:
            log.debug(
                "session %s: ticket %d waited %.3f s, ran %.3f s: %s",
                *(key[:8], ticket, started - arrived, time.monotonic() - started, outcome),
            )
            with self._changed:
                self._finish(line, ticket)
                self._forget_idle()
                self._changed.notify_all()

    def run(self, key: str | None, session, act: Callable[[Any], tuple], **options) -> tuple:
        """`answers` (with its `options`) for a caller that sends the answer itself: returns
        it, and the next event of `key` may start at once."""
        (out,) = self.answers(key, session, act, **options)
        return out

    def _may_start(self, line: _Line, ticket: int) -> bool:
        now = time.monotonic()
        if line.running is not None:
            if line.computed is None or now - line.computed < self.delivery_s:
                return False
            self._finish(line, line.running)  # answered, never resumed: the page went away
        if ticket <= line.serving:  # its turn, or late (its number was skipped)
            return True
        if line.serving in line.waiting:  # the one whose turn it is goes first
            return False
        # the number whose turn it is has not arrived: wait for it, then go on without it
        return ticket == min(line.waiting) and now - line.moved >= self.gap_s

    @staticmethod
    def _finish(line: _Line, ticket: int) -> None:
        if line.running == ticket:
            line.running = line.computed = None
        if ticket >= line.serving:
            line.serving = ticket + 1
        line.moved = line.touched = time.monotonic()

    def _stamped(self, session, act: Callable[[Any], tuple], computes: bool) -> tuple:
        """`act(session)` with the session it leaves one version newer than `session`."""
        if computes:
            with self._slots:
                out = act(session)
        else:
            out = act(session)
        return out._replace(session=out.session.model_copy(update={"version": session.version + 1}))

    def _forget_idle(self) -> None:
        now = time.monotonic()
        for key in [
            k
            for k, line in self._lines.items()
            if not line.waiting and line.running is None and now - line.touched > self.ttl_s
        ]:
            del self._lines[key]


def _new_line(session, number: int | None) -> _Line:
    """A session's queue from its first event (or its first after a while): a numbered event
    carries the page's state, whose version counts the events answered so far."""
    if number is None:
        return _Line()
    return _Line(serving=(0 if session is None else session.version) + 1)


def _newest(session, latest):
    if latest is None or session is None:
        return session if latest is None else latest
    return latest if latest.version > session.version else session
