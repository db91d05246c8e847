"""The dialogue state: everything needed to replay, undo or resume a conversation."""

from __future__ import annotations

from base64 import b64decode, b64encode
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

Polarity = Literal["require", "avoid"]
Relative = Literal["cheap", "expensive"]
Order = Literal["ascending", "descending"]
Action = Literal["text", "item", "select", "upload", "none_of_these", "choose", "other_colours"]


def _unset(value) -> bool:
    return value is None


class Constraint(BaseModel):
    attribute: str
    value: str
    polarity: Polarity = "require"
    # chosen by a click (a chip, a filter), not read from words: it filters even where
    # constraints read from words are soft query terms only (AgentConfig.hard_constraints)
    clicked: bool = False
    # numeric attributes (a price): inclusive bounds (None: open), a relative bound ("cheap":
    # the cheapest third of the candidates, made bounds at its first search), or an order of
    # the results; `value` says it in words ("under 30", "cheapest first"). Left out of the
    # JSON where unset, so a value constraint's JSON is as it always was
    low: float | None = Field(None, exclude_if=_unset)
    high: float | None = Field(None, exclude_if=_unset)
    relative: Relative | None = Field(None, exclude_if=_unset)
    order: Order | None = Field(None, exclude_if=_unset)

    @property
    def numeric(self) -> bool:
        """A bound or an order on a numeric attribute, not a value to match."""
        return any(x is not None for x in (self.low, self.high, self.relative, self.order))

    @property
    def ordering(self) -> bool:
        return self.order is not None


class Chip(BaseModel):
    """One click the shopper can make after a turn: a value to require."""

    attribute: str
    value: str
    share: float = 0.0  # of the candidates' score weight (suggestions)

    def constraint(self) -> Constraint:
        return Constraint(
            attribute=self.attribute, value=self.value, polarity="require", clicked=True
        )


class Offer(BaseModel):
    """The agent's initiative after a turn: refinement chips, or a question with chips."""

    kind: Literal["suggestion", "question"]
    attribute: str  # the attribute the chips are values of (the first one's, if several)
    chips: list[Chip] = Field(default_factory=list)
    word: str = ""  # questions about an ambiguous word: the word


class Result(BaseModel):
    """One result shown to the shopper, with the requested attributes it matches."""

    id: str
    score: float
    attributes: dict[str, str] = Field(default_factory=dict)
    matches: list[str] = Field(default_factory=list)  # requested values it has: ["red"]
    title: str = ""  # the shop's product name, where it has one


class Reference(BaseModel):
    """The image the next query starts from: a catalogue item or an uploaded picture."""

    kind: Literal["item", "upload"]
    item_id: str | None = None
    vector: list[float] | None = None  # uploads only (catalogue items are looked up)
    thumbnail_png: str = ""  # uploads only: base64 PNG, at most 128 px a side


class TurnRecord(BaseModel):
    action: Action
    user_text: str = ""
    caption: str = ""  # the rewritten modification caption that was searched
    constraints: list[Constraint] = Field(default_factory=list)  # read from this turn
    rewriter: str = ""
    fallback_reason: str | None = None  # why an LLM rewrite was replaced by the default
    sources: dict[str, str] = Field(default_factory=dict)  # "attribute=value" -> rules / llm:M
    overruled: list[Constraint] = Field(default_factory=list)  # LLM constraints not used
    reference_id: str | None = None
    results: list[Result] = Field(default_factory=list)
    new_search: bool = False  # this turn started a search (the first turn, or a new request)
    dropped: list[Constraint] = Field(default_factory=list)  # what a new search let go
    timings_ms: dict[str, float] = Field(default_factory=dict)
    note: str = ""  # what the agent tells the shopper about this turn
    matching: int | None = None  # catalogue items that meet the turn's requirements
    offer: Offer | None = None  # chips or a question after this turn
    held_back: list[Constraint] = Field(default_factory=list)  # ambiguous: asked, not applied
    limits: list[str] = Field(default_factory=list)  # asked of what the catalogue lacks: "price"
    text_words: list[str] = Field(default_factory=list)  # searched in the shop's own texts
    text_missing: list[str] = Field(default_factory=list)  # of those, in no item allowed


VECTORS = ("last_query", "anchor_query")  # float lists an undo step keeps packed


def pack_vector(vector: list[float] | None) -> str | None:
    """A float list as base64 float64 bytes: exact, and half the size of its JSON."""
    return None if vector is None else b64encode(np.asarray(vector, "<f8").tobytes()).decode()


def unpack_vector(packed: str | None) -> list[float] | None:
    return None if packed is None else np.frombuffer(b64decode(packed), "<f8").tolist()


class UndoStep(BaseModel):
    """What undoing one turn restores, as a diff: each list the turn only appended to by its
    earlier length, each other field the turn changed by its earlier value (JSON-ready; the
    query vectors packed). Its size does not grow with the dialogue, so neither does a
    turn's cost."""

    lengths: dict[str, int] = Field(default_factory=dict)
    values: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def between(cls, before: DialogueState, after: DialogueState) -> UndoStep:
        """The step that takes `after` back to `before`."""
        lengths, values = {}, {}
        for name in DialogueState.model_fields:
            old, new = getattr(before, name), getattr(after, name)
            if name == "undo_stack" or old == new:
                continue
            if isinstance(old, list) and isinstance(new, list) and new[: len(old)] == old:
                lengths[name] = len(old)
            elif name in VECTORS:
                values[name] = pack_vector(old)
            else:
                values[name] = before.model_dump(mode="json", include={name})[name]
        return cls(lengths=lengths, values=values)


class DialogueState(BaseModel):
    composer: str
    turns: list[TurnRecord] = Field(default_factory=list)
    reference: Reference | None = None
    liked: list[str] = Field(default_factory=list)
    rejected: list[str] = Field(default_factory=list)
    constraints: list[Constraint] = Field(default_factory=list)  # active across turns
    shown: list[str] = Field(default_factory=list)  # every item shown so far
    last_query: list[float] | None = None
    anchor_query: list[float] | None = None  # the last composed request, before feedback
    undo_stack: list[UndoStep] = Field(default_factory=list)  # one per turn, last on top

    @property
    def last_results(self) -> list[Result]:
        return self.turns[-1].results if self.turns else []

    @property
    def last_offer(self) -> Offer | None:
        """The chips or question after the last turn (None before any, or without one)."""
        return self.turns[-1].offer if self.turns else None

    def fork(self) -> DialogueState:
        """A copy for the next turn: its lists are new (append, extend and assign to them
        freely); the records, constraints and reference they hold are shared, never changed
        in place. Much cheaper than a deep copy, which grows with the dialogue."""
        lists = ("turns", "liked", "rejected", "constraints", "shown", "undo_stack")
        return self.model_copy(update={name: list(getattr(self, name)) for name in lists})

    def reject_shown(self) -> None:
        """The results last shown become rejected ("none of these", "no, not these")."""
        self.rejected += [r.id for r in self.last_results if r.id not in self.rejected]

    def request_caption(self) -> str:
        """The words of the request as it stands: the last caption searched since the search
        began ('' if none)."""
        for turn in reversed(self.turns):
            if turn.caption:
                return turn.caption
            if turn.new_search:
                break
        return ""

    def undo(self) -> DialogueState:
        """The state exactly as it was before the last turn (unchanged if there is none)."""
        if not self.undo_stack:
            return self.model_copy(deep=True)
        step = self.undo_stack[-1]
        fields = {name: getattr(self, name) for name in DialogueState.model_fields}
        for name, length in step.lengths.items():
            fields[name] = fields[name][:length]
        fields.update(step.values)
        fields.update(
            {name: unpack_vector(step.values[name]) for name in VECTORS if name in step.values}
        )
        fields["undo_stack"] = self.undo_stack[:-1]
        return DialogueState.model_validate(fields)

    def reset(self) -> DialogueState:
        return DialogueState(composer=self.composer)
