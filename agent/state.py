"""The dialogue state: everything needed to replay, undo or resume a conversation."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Polarity = Literal["require", "avoid"]
Action = Literal["text", "item", "select", "upload", "none_of_these", "choose", "other_colours"]


class Constraint(BaseModel):
    attribute: str
    value: str
    polarity: Polarity = "require"
    # chosen by a click (a chip, a filter), not read from words: it filters even where
    # constraints read from words are soft query terms only (AgentConfig.hard_constraints)
    clicked: bool = False


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
    ranking: list[str] = Field(default_factory=list)  # top-depth ids, when asked (evaluation)
    new_search: bool = False  # this turn started a search (the first turn, or a new request)
    target_ranks: dict[str, int] = Field(default_factory=dict)  # evaluation: true ranks
    dropped: list[Constraint] = Field(default_factory=list)  # what a new search let go
    timings_ms: dict[str, float] = Field(default_factory=dict)
    note: str = ""  # what the agent tells the shopper about this turn
    matching: int | None = None  # catalogue items that meet the turn's requirements
    offer: Offer | None = None  # chips or a question after this turn
    held_back: list[Constraint] = Field(default_factory=list)  # ambiguous: asked, not applied


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
    undo_stack: list[str] = Field(default_factory=list)  # JSON of the states before each turn

    @property
    def last_results(self) -> list[Result]:
        return self.turns[-1].results if self.turns else []

    def fork(self) -> DialogueState:
        """A copy for the next turn: its lists are new (append, extend and assign to them
        freely); the records, constraints and reference they hold are shared, never changed
        in place. Much cheaper than a deep copy, which grows with the dialogue."""
        lists = ("turns", "liked", "rejected", "constraints", "shown", "undo_stack")
        return self.model_copy(update={name: list(getattr(self, name)) for name in lists})

    def snapshot(self) -> str:
        return self.model_dump_json(exclude={"undo_stack"})

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
        previous = DialogueState.model_validate_json(self.undo_stack[-1])
        previous.undo_stack = list(self.undo_stack[:-1])
        return previous

    def reset(self) -> DialogueState:
        return DialogueState(composer=self.composer)
