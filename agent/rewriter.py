"""Turn a shopper's message into a concise modification caption and structured constraints."""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel, Field

from agent.language.parser import FILLER, AttributeParser, tokenize
from agent.state import Constraint
from retrieval.catalogues.fmnist_vocab import ATTRIBUTES

MAX_MESSAGE_CHARS = 500
NEGATIVE_FEEDBACK = re.compile(
    r"\b(none of (these|them|those)|not (this|that|these|those)( ones?)?|neither|nope|"
    r"no(ne)? good|i don'?t like (these|them|this|that))\b"
)


class Rewrite(BaseModel):
    caption: str
    constraints: list[Constraint] = Field(default_factory=list)
    rewriter: str = "rules"
    negative_feedback: bool = False  # "not this one", "none of these"
    fallback_reason: str | None = None
    note: str = ""  # e.g. "your message was shortened to 500 characters"
    unmapped: str = ""  # the words that named no attribute value ("longer sleeves")


def clean_message(text: str) -> tuple[str, str]:
    """Printable, single-spaced text of at most MAX_MESSAGE_CHARS; and a note if it was cut."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(c if c.isprintable() else " " for c in text)
    text = " ".join(text.split())
    if len(text) <= MAX_MESSAGE_CHARS:
        return text, ""
    cut = text[:MAX_MESSAGE_CHARS].rsplit(" ", 1)[0] or text[:MAX_MESSAGE_CHARS]
    return cut, f"your message was shortened to its first {len(cut)} characters"


class RuleRewriter:
    """The default, no-LLM rewriter: lexicon + text-encoder matching + negation/keep rules."""

    name = "rules"

    def __init__(self, encoder=None, has_attributes: bool = True):
        self.parser = AttributeParser(encoder) if has_attributes else None

    def rewrite(self, text: str) -> Rewrite:
        text, note = clean_message(text)
        negative = bool(NEGATIVE_FEEDBACK.search(text.lower()))
        if self.parser is None:
            return Rewrite(caption=text, rewriter=self.name, negative_feedback=negative, note=note)
        mentions = self.parser.parse(text)
        constraints = _dedupe(
            [
                Constraint(attribute=m.attribute, value=m.value, polarity=m.polarity)
                for m in mentions
            ]
        )
        tokens = tokenize(text)
        mapped = {i for m in mentions for i in range(m.start, m.end)}
        leftovers = [
            t
            for i, t in enumerate(tokens)
            if i not in mapped and t not in FILLER and not _is_negation_or_feedback(t)
        ]
        required = [c.value for c in constraints if c.polarity == "require"]
        unmapped = " ".join(leftovers)
        caption = ", ".join(required + ([unmapped] if unmapped else []))
        return Rewrite(
            caption=caption,
            constraints=constraints,
            rewriter=self.name,
            negative_feedback=negative,
            note=note,
            unmapped=unmapped,
        )


def _is_negation_or_feedback(token: str) -> bool:
    from agent.language.parser import KEEPERS, NEGATORS

    return (
        token in NEGATORS
        or token in KEEPERS
        or token in {"none", "these", "those", "neither", "nope", "them"}
    )


def _dedupe(constraints: list[Constraint]) -> list[Constraint]:
    """Last word wins per (attribute, polarity) for requires; avoids accumulate."""
    out: list[Constraint] = []
    for c in constraints:
        if c.polarity == "require":
            out = [o for o in out if not (o.attribute == c.attribute and o.polarity == "require")]
        out = [o for o in out if not (o.attribute == c.attribute and o.value == c.value)]
        out.append(c)
    return out


def catalogue_has_attributes(items) -> bool:
    """True when items carry the fmnist-color attribute vocabulary."""
    return bool(items) and set(ATTRIBUTES) <= set(items[0].attributes)
