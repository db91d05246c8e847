"""`circhat chat`: the same conversation as the app, in a terminal or as JSON lines.

Each input line is a turn: plain text, a `:command` (`:pick N [text]`, `:chip N` (the N-th
suggestion or answer), `:none`, `:undo`, `:reset`, `:help`, `:quit`), or (for scripts) a
JSON object `{"text": ..., "pick": RANK_OR_ID, "chip": N, "none_of_these": true, "undo": true,
"reset": true}`.
Every turn goes through the same session actions as the app (ui/session.py); a bad line is answered with an
error and the dialogue goes on.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import TextIO

from agent.agent import Agent, Turn, TurnError
from agent.state import Constraint, DialogueState
from ui import replies
from ui.session import Conversation

HELP = (
    "Say what you want ('a navy shirt for men'), or refine: ':pick N [text]' starts from the "
    "N-th result ('in red'), ':chip N' takes the N-th suggestion, ':colours N' shows the N-th result in other "
    "colours, ':none' rejects the results, "
    "':undo', ':reset', ':quit'."
)
SHOWN = 10  # results listed per turn in the terminal


class ChatInputError(ValueError):
    """A line that is not a turn: the message says why."""


@dataclass
class ChatLine:
    """One input line, parsed."""

    text: str = ""
    pick: str | int | None = None
    chip: int | None = None
    colours: str | int | None = None  # a result (number or id): its other colours
    none_of_these: bool = False
    undo: bool = False
    reset: bool = False
    command: str = ""  # help / quit


def _json_array(line: str) -> bool:
    """Whether a line is a JSON array (a script's mistake), not words in brackets."""
    with contextlib.suppress(json.JSONDecodeError):
        return isinstance(json.loads(line), list)
    return False


def parse_line(line: str) -> ChatLine:
    line = line.strip()
    if line.startswith("{"):
        try:
            data = json.loads(line)
        except json.JSONDecodeError as err:
            raise ChatInputError(
                f"not a valid JSON object ({err.msg}): send one per line"
            ) from None
        keys = ("text", "pick", "chip", "colours", "none_of_these", "undo", "reset")
        unknown = set(data) - set(keys) if isinstance(data, dict) else {"(not an object)"}
        if unknown:
            raise ChatInputError(f"unknown keys {sorted(unknown)}: use {', '.join(keys)}")
        if not isinstance(data.get("text") or "", str):
            raise ChatInputError(f"'text' must be a string, not {data['text']!r}")
        return ChatLine(
            text=str(data.get("text") or ""),
            pick=data.get("pick"),
            chip=data.get("chip"),
            colours=data.get("colours"),
            none_of_these=bool(data.get("none_of_these")),
            undo=bool(data.get("undo")),
            reset=bool(data.get("reset")),
        )
    if line.startswith("[") and _json_array(line):
        raise ChatInputError("not a valid JSON object (an array): send one object per line")
    if not line.startswith(":"):
        return ChatLine(text=line)
    verb, _, rest = line[1:].partition(" ")
    if verb == "pick":
        target, _, text = rest.strip().partition(" ")
        if not target:
            raise ChatInputError("':pick' needs a result number or an item id, e.g. ':pick 2'")
        return ChatLine(text=text, pick=int(target) if target.isdigit() else target)
    if verb == "chip":
        if not rest.strip().isdigit():
            raise ChatInputError("':chip' needs the number of a suggestion, e.g. ':chip 1'")
        return ChatLine(chip=int(rest.strip()))
    if verb == "colours":
        target = rest.strip()
        if not target:
            raise ChatInputError(
                "':colours' needs a result number or an item id, e.g. ':colours 2'"
            )
        return ChatLine(colours=int(target) if target.isdigit() else target)
    known = {"none": ChatLine(none_of_these=True), "undo": ChatLine(undo=True)}
    known |= {"reset": ChatLine(reset=True), "help": ChatLine(command="help")}
    known |= {"quit": ChatLine(command="quit"), "exit": ChatLine(command="quit")}
    if verb not in known:
        raise ChatInputError(f"unknown command ':{verb}': {HELP}")
    return known[verb]


@dataclass
class ChatSession:
    """One dialogue with the agent; `handle` takes a line and returns the turn's record."""

    agent: Agent
    conversation: Conversation = field(init=False)
    state: DialogueState = field(init=False)

    def __post_init__(self) -> None:
        self.conversation = Conversation(self.agent)
        self.state = self.conversation.new_state()

    def _pick(self, pick: str | int) -> str:
        shown = self.state.last_results
        if isinstance(pick, int):
            chosen = self.conversation.shown(self.state, pick - 1) if pick >= 1 else None
            if chosen is None:
                raise ChatInputError(f"there is no result {pick}: pick one of 1-{len(shown)}")
            return chosen.id
        if pick not in {r.id for r in shown}:
            raise ChatInputError(f"{pick!r} is not among the results shown")
        return pick

    def _chip(self, number: int) -> Constraint:
        chip = self.conversation.chip(self.state, number - 1) if isinstance(number, int) else None
        if chip is None:
            chips = self.conversation.chips(self.state)
            if not chips:
                raise ChatInputError("there is no suggestion to take now")
            raise ChatInputError(f"there is no suggestion {number}: take one of 1-{len(chips)}")
        return chip.constraint()

    def handle(self, line: str) -> dict:
        try:
            parsed = parse_line(line)
            return self._apply(parsed)
        except (ChatInputError, TurnError) as err:
            return {**self.record(), "reply": str(err), "error": str(err)}

    def _apply(self, parsed: ChatLine) -> dict:
        if parsed.command == "help":
            return {**self.record(), "reply": HELP}
        if parsed.command == "quit":
            return {**self.record(), "reply": "Bye.", "quit": True}
        if parsed.undo:
            self.state, reply = self.conversation.undo(self.state)
            return {**self.record(), "reply": reply}
        if parsed.reset:
            self.state = self.conversation.reset(self.state)
            return {**self.record(), "reply": "Started over."}
        if parsed.colours is not None:
            item = self._pick(parsed.colours)
            self.state, reply = self.conversation.other_colours(self.state, item)
            return {**self.record(), "reply": reply}
        select = self._pick(parsed.pick) if parsed.pick is not None else None
        chosen = self._chip(parsed.chip) if parsed.chip is not None else None
        turn = Turn(
            text=parsed.text, select=select, none_of_these=parsed.none_of_these, choose=chosen
        )
        self.state, reply = self.conversation.turn(self.state, turn)
        return {**self.record(), "reply": reply}

    def record(self) -> dict:
        """What the last turn left: its caption, the active constraints, the results."""
        last = self.state.turns[-1] if self.state.turns else None
        return {
            "reply": "",
            "caption": last.caption if last else "",
            "constraints": [c.model_dump() for c in self.state.constraints],
            "new_search": bool(last and last.new_search),
            "matching": last.matching if last else None,
            "offer": last.offer.model_dump() if last and last.offer else None,
            "results": [
                {"id": r.id, "score": r.score, "attributes": r.attributes, "title": r.title}
                for r in self.state.last_results
            ],
            "error": None,
        }


def run_json(session: ChatSession, lines: TextIO, out: TextIO) -> int:
    """One JSON object out per line in, until the input ends."""
    for line in lines:
        if not line.strip():
            continue
        answer = session.handle(line)
        out.write(json.dumps(answer) + "\n")
        out.flush()
        if answer.get("quit"):
            break
    return 0


def run_terminal(session: ChatSession, out: TextIO) -> int:
    """A readline prompt; results listed as a numbered table after each reply."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input())
    out.write(HELP + "\n")
    while True:
        try:
            line = input("you> ")
        except (EOFError, KeyboardInterrupt):
            out.write("\n")
            return 0
        if not line.strip():
            continue
        answer = session.handle(line)
        out.write(f"circhat> {answer['reply']}\n")
        for rank, r in enumerate(answer["results"][:SHOWN], 1):
            out.write(f"  {rank:>2}. {replies.product_line(r)}\n")
        offer = answer.get("offer")
        if offer:
            chips = "   ".join(f"[{i}] {c['value']}" for i, c in enumerate(offer["chips"], 1))
            out.write(f"  :chip N  {chips}\n")
        if answer.get("quit"):
            return 0
