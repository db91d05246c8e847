"""The app's events of one browser session run one at a time, in the order they arrived, each
on the session the previous one left; turns of different sessions run side by side, at most
`slots` at once.

Gradio runs every event it is sent (the page fires them with trigger_mode="multiple", so a
message sent while a turn runs is not dropped), but it reads a session's `gr.State` when an
event starts: a second event started while the first runs would get the state from before
the first. So each session's events take a ticket and wait for their turn here, and the
session each event leaves is handed to the next (by `Session.version`, the newer of the
hand-off and the event's own state wins). Hand-offs of sessions with no event in flight are
forgotten after `ttl_s`; the dialogue itself lives in the page's `gr.State` as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

HANDOFF_TTL_S = 120.0  # a hand-off outlives its session's last event by this long
# a waiting event starts this long after the one before it returned: Gradio still turns that
# one's outputs into its answer and sends it, and the answers must reach the page in order
SETTLE_S = 0.15


@dataclass
class _Line:
    """One browser session's queue: the next ticket to give, the ticket being served, and the
    session its last event left."""

    issued: int = 0
    serving: int = 0
    latest: Any = None
    touched: float = field(default_factory=time.monotonic)
    finished: float = 0.0  # when its last event returned


class SessionOrder:
    """Runs each session's events in order, at most `slots` turns of all sessions at once.

    Args:
        slots: turns computed at once across sessions (waiting turns hold no slot).
        ttl_s: how long a session's hand-off is kept after its last event.
    """

    def __init__(self, slots: int, ttl_s: float = HANDOFF_TTL_S, settle_s: float = SETTLE_S):
        self._changed = threading.Condition()
        self._lines: dict[str, _Line] = {}
        self._slots = threading.BoundedSemaphore(max(1, slots))
        self.ttl_s, self.settle_s = ttl_s, settle_s

    def waiting(self, key: str | None) -> int:
        """Events of session `key` taken in and not yet finished."""
        with self._changed:
            line = self._lines.get(key)
            return 0 if line is None else line.issued - line.serving

    def run(
        self, key: str | None, session, act: Callable[[Any], tuple], computes: bool = True
    ) -> tuple:
        """`act(session)` once the earlier events of session `key` have finished, on the newest
        session (this event's `session` or the one the last event left); returns what `act`
        returns, a NamedTuple whose `session` is the one it leaves. `computes`: takes one of
        the shared slots while it runs (a search; a pick only records a click)."""
        if key is None:  # called directly (tests, scripts): nothing to order
            return self._stamped(session, act)
        with self._changed:
            line = self._lines.setdefault(key, _Line())
            ticket, line.issued = line.issued, line.issued + 1
            queued = line.serving != ticket  # sent while an earlier event ran
            while line.serving != ticket:
                self._changed.wait()
            newest = _newest(session, line.latest)
            settle = line.finished + self.settle_s - time.monotonic() if queued else 0.0
        if settle > 0:  # the answer before this one is still on its way to the page
            time.sleep(settle)
        out = None
        try:
            if computes:
                with self._slots:
                    out = self._stamped(newest, act)
            else:
                out = self._stamped(newest, act)
            return out
        finally:
            with self._changed:
                line.serving += 1
                line.touched = line.finished = time.monotonic()
                if out is not None:
                    line.latest = out.session
                self._forget_idle()
                self._changed.notify_all()

    @staticmethod
    def _stamped(session, act: Callable[[Any], tuple]) -> tuple:
        """`act(session)` with the session it leaves one version newer than `session`."""
        out = act(session)
        return out._replace(session=out.session.model_copy(update={"version": session.version + 1}))

    def _forget_idle(self) -> None:
        now = time.monotonic()
        for key in [
            k
            for k, line in self._lines.items()
            if line.issued == line.serving and now - line.touched > self.ttl_s
        ]:
            del self._lines[key]


def _newest(session, latest):
    if latest is None or session is None:
        return session if latest is None else latest
    return latest if latest.version > session.version else session
