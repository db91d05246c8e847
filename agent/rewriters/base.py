"""What every rewriter answers (`Rewrite`), what the agent asks of one (`Rewriter`), and the
cleaning every message gets first."""

from __future__ import annotations

import unicodedata
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

from agent.state import Constraint

MAX_MESSAGE_CHARS = 500


class Ambiguity(BaseModel):
    """A word that fits several values equally: the agent asks instead of guessing."""

    word: str
    options: list[Constraint]


class Rewrite(BaseModel):
    caption: str
    constraints: list[Constraint] = Field(default_factory=list)
    rewriter: str = "rules"
    negative_feedback: bool = False  # "not this one", "none of these"
    new_search: bool = False  # reads as a new request ("now show me ...") or "start over"
    reset: bool = False  # "start over": drop the earlier search entirely
    indefinite: bool = False  # asks for "something" rather than for the item shown
    fallback_reason: str | None = None
    note: str = ""  # e.g. "your message was shortened to 500 characters"
    unmapped: str = ""  # the words that named no attribute value ("longer sleeves")
    # Words that fit several values: the first option, if any, is also in `constraints` (the
    # rules' best reading); the agent holds it back and asks
    ambiguities: list[Ambiguity] = Field(default_factory=list)
    # Where each constraint came from, by "attribute=value": "rules" or "llm:<model>" (LLM
    # and hybrid rewriters fill it; empty from the rules alone, whose every constraint is theirs)
    sources: dict[str, str] = Field(default_factory=dict)
    # LLM constraints not used: the rules' reading differs, or their encoder does not back it
    overruled: list[Constraint] = Field(default_factory=list)
    # What the message asked that the catalogue has no attribute for ("price", "size", ...):
    # the reply says so; those words are not searched
    limits: list[str] = Field(default_factory=list)


@runtime_checkable
class Rewriter(Protocol):
    """What the agent asks of a rewriter (the rules, an LLM, the hybrid of both)."""

    name: str

    @property
    def llm_slots(self) -> int:
        """Model calls it may have in flight at once (0: it never waits on a model)."""
        ...

    @property
    def calls(self) -> int:
        """Model calls made so far (cache hits make none; 0 for the rules)."""
        ...

    def warm_up(self) -> float:
        """Load the model and evaluate the fixed part of its prompt once (seconds taken)."""
        ...

    def rewrite(self, text: str) -> Rewrite:
        """The reading of one message, cleaned once by whoever received it (clean_message:
        printable, single-spaced, at most MAX_MESSAGE_CHARS)."""
        ...


def source_key(constraint: Constraint) -> str:
    """How `Rewrite.sources` names a constraint: "attribute=value"."""
    return f"{constraint.attribute}={constraint.value}"


def clean_message(text: str) -> tuple[str, str]:
    """Printable, single-spaced text of at most MAX_MESSAGE_CHARS; and a note if it was cut."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(c if c.isprintable() else " " for c in text)
    text = " ".join(text.split())
    if len(text) <= MAX_MESSAGE_CHARS:
        return text, ""
    cut = text[:MAX_MESSAGE_CHARS].rsplit(" ", 1)[0] or text[:MAX_MESSAGE_CHARS]
    return cut, f"your message was shortened to its first {len(cut)} characters"
