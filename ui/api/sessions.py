"""A session's turns through the API: load its state from the store, apply the action with the
same session actions as the app and the chat (ui/session.py's Conversation), save it back
under a version check, and answer with what the shopper sees. The store holds the dialogue;
a worker keeps the last states it saved (`RecentStates`) only to skip reading and parsing a
record whose version in the store is still the one it saved."""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict

import numpy as np

from agent.agent import Agent, Turn, TurnError
from agent.state import Constraint, DialogueState
from ui import replies
from ui.api.errors import ApiError
from ui.api.items import result_out
from ui.api.models import (
    ChipOut,
    ConstraintOut,
    Dialogue,
    SessionCreated,
    TurnAnswer,
    TurnRequest,
    TurnSummary,
)
from ui.api.store import SessionConflict, SessionMissing, SessionStore, SessionTooLarge
from ui.session import Conversation

STARTED_OVER = "Started over: tell me what you are looking for."
MAX_UNDO_STEPS = 10  # turns a session can undo: older steps are not stored (its size bound)
ID_PREFIX = "id:"  # `pick: "id:123"`: an item id that is all digits, sent in a form
RECENT_SESSIONS = 32  # states a worker keeps (about 200 KB of JSON each after 30 turns)


class RecentStates:
    """The states this worker last saved, by session, each with the store version it got.
    A turn asks the store for the version alone; while it is still that one, the state here
    is the stored one, and reading and parsing the record (about 1 ms at 200 KB) is skipped.
    A state is never changed in place (a turn works on a fork), so one kept here is safe to
    hand out again."""

    def __init__(self, size: int = RECENT_SESSIONS):
        self.size, self._states = size, OrderedDict()
        self._lock = threading.Lock()

    def get(self, session_id: str, version: int) -> DialogueState | None:
        with self._lock:
            kept = self._states.get(session_id)
            if kept is None or kept[0] != version:
                return None
            self._states.move_to_end(session_id)
            return kept[1]

    def put(self, session_id: str, version: int, state: DialogueState) -> None:
        with self._lock:
            self._states[session_id] = (version, state)
            self._states.move_to_end(session_id)
            while len(self._states) > self.size:
                self._states.popitem(last=False)

    def holds(self, session_id: str) -> bool:
        with self._lock:
            return session_id in self._states

    def drop(self, session_id: str) -> None:
        with self._lock:
            self._states.pop(session_id, None)


class Sessions:
    """Turns of stored sessions; shared by every request of a worker (it holds no dialogue)."""

    def __init__(self, agent: Agent, store: SessionStore):
        self.agent, self.store = agent, store
        self.conversation = Conversation(agent)
        self.recent = RecentStates()

    def create(self) -> SessionCreated:
        session_id = secrets.token_urlsafe(16)
        self.store.create(session_id, self.conversation.new_state().model_dump_json())
        return SessionCreated(session_id=session_id, version=1)

    def load(self, session_id: str) -> tuple[DialogueState, int]:
        if self.recent.holds(session_id):  # one small read where this worker saved it last
            version = self.store.version(session_id)
            kept = None if version is None else self.recent.get(session_id, version)
            if kept is not None:
                return kept, version
        stored = self.store.load(session_id)
        if stored is None:
            raise ApiError(
                404,
                "unknown_session",
                f"no session {session_id!r} (never made, deleted or expired): POST /v1/sessions",
            )
        return DialogueState.model_validate_json(stored.state_json), stored.version

    def delete(self, session_id: str) -> None:
        self.recent.drop(session_id)
        if not self.store.delete(session_id):
            self.load(session_id)  # 404 in its words

    def turn(
        self, session_id: str, request: TurnRequest, image: np.ndarray | None = None
    ) -> TurnAnswer:
        started = time.perf_counter()
        state, version = self.load(session_id)
        turns_before = len(state.turns)
        try:
            new, reply = self._apply(state, request, image)
        except TurnError as err:
            raise ApiError(422, "turn_refused", str(err)) from None
        version = self._save(session_id, new, version)
        timings = dict(new.turns[-1].timings_ms) if len(new.turns) > turns_before else {}
        timings["api_total"] = round((time.perf_counter() - started) * 1000, 2)
        return self.answer(session_id, version, new, reply, timings)

    def _apply(
        self, state: DialogueState, request: TurnRequest, image: np.ndarray | None
    ) -> tuple[DialogueState, str]:
        talk = self.conversation
        if request.undo:
            return talk.undo(state)
        if request.reset:
            return talk.reset(state), STARTED_OVER
        if request.other_colours is not None:
            item = self._target(state, request.other_colours)
            return talk.other_colours(state, item)
        turn = Turn(text=request.text, image=image, none_of_these=request.none_of_these)
        if request.pick is not None:
            item = self._target(state, request.pick)
            shown = {r.id for r in state.last_results}
            turn.select, turn.item = (item, None) if item in shown else (None, item)
        if request.chip is not None:
            turn.choose = self._chip(state, request.chip)
        return talk.turn(state, turn)

    def _target(self, state: DialogueState, pick: int | str) -> str:
        """The item a rank (from 1) among the results shown, or any catalogue item's id,
        names."""
        if isinstance(pick, int):
            rank = pick
            chosen = self.conversation.shown(state, rank - 1) if rank >= 1 else None
            if chosen is None:
                shown = len(state.last_results)
                hint = f"pick one of 1-{shown}" if shown else "search first, or give an item id"
                raise ApiError(422, "no_such_result", f"there is no result {rank}: {hint}")
            return chosen.id
        item_id = pick.removeprefix(ID_PREFIX)
        if item_id not in self.agent.index.positions:
            raise ApiError(404, "unknown_item", f"no item {item_id!r} in this catalogue")
        return item_id

    def _chip(self, state: DialogueState, rank: int) -> Constraint:
        chip = self.conversation.chip(state, rank - 1)
        if chip is None:
            chips = self.conversation.chips(state)
            hint = f"take one of 1-{len(chips)}" if chips else "there is none to take now"
            raise ApiError(422, "no_such_chip", f"there is no chip {rank}: {hint}")
        return chip.constraint()

    def _save(self, session_id: str, state: DialogueState, version: int) -> int:
        """Write the state back if no other turn of the session was saved meanwhile, with its
        last MAX_UNDO_STEPS undo steps; the oldest of them go first where the record is above
        the store's size bound."""
        if len(state.undo_stack) > MAX_UNDO_STEPS:
            state = state.model_copy(update={"undo_stack": state.undo_stack[-MAX_UNDO_STEPS:]})
        for _ in range(len(state.undo_stack) + 1):
            try:
                saved = self.store.save(session_id, state.model_dump_json(), version)
                self.recent.put(session_id, saved, state)  # the state as stored
                return saved
            except SessionTooLarge:
                if not state.undo_stack:
                    break
                state = state.model_copy(update={"undo_stack": state.undo_stack[1:]})
            except SessionConflict:
                raise ApiError(
                    409,
                    "session_busy",
                    "another turn of this session was served meanwhile: load it and try again",
                ) from None
            except SessionMissing:
                self.load(session_id)  # expired or deleted meanwhile: 404 in its words
        raise ApiError(
            413, "session_too_large", "the dialogue is too long to keep: reset it to go on"
        )

    def answer(
        self, session_id: str, version: int, state: DialogueState, reply: str, timings: dict
    ) -> TurnAnswer:
        last = state.turns[-1] if state.turns else None
        offer = state.last_offer
        question = offer and offer.kind == "question"
        return TurnAnswer(
            session_id=session_id,
            version=version,
            turns=len(state.turns),
            reply=reply,
            caption=last.caption if last else "",
            constraints=[_constraint(c) for c in state.constraints],
            new_search=bool(last and last.new_search),
            matching=last.matching if last else None,
            chips=[
                ChipOut(attribute=c.attribute, value=c.value)
                for c in (offer.chips if offer else [])
            ],
            question=replies.offer_text(offer, self.agent.schema) if question else None,
            results=[result_out(rank, r) for rank, r in enumerate(state.last_results, 1)],
            timings=timings,
        )

    def dialogue(self, session_id: str) -> Dialogue:
        state, version = self.load(session_id)
        turns = [
            TurnSummary(
                action=t.action,
                user_text=t.user_text,
                caption=t.caption,
                constraints=[_constraint(c) for c in t.constraints],
                new_search=t.new_search,
                results=[result_out(rank, r) for rank, r in enumerate(t.results, 1)],
            )
            for t in state.turns
        ]
        constraints = [_constraint(c) for c in state.constraints]
        return Dialogue(
            session_id=session_id, version=version, turns=turns, constraints=constraints
        )


def _constraint(c: Constraint) -> ConstraintOut:
    return ConstraintOut(attribute=c.attribute, value=c.value, polarity=c.polarity)
