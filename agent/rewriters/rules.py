"""The default rewriter: a shopper's message into a concise modification caption and
structured constraints, by the catalogue's phrase table, text-encoder matching and rules."""

from __future__ import annotations

import re
import time

from agent.language.intent import read_intent
from agent.language.limits import read_limits
from agent.language.negation import negated_after
from agent.language.parser import FILLER, KEEPERS, NEGATORS, OPPOSITES, AttributeParser, clauses
from agent.language.phrases import tokenize
from agent.language.prices import number_said_as_size, price_attribute, read_prices, said
from agent.rewriters.base import Ambiguity, Rewrite
from agent.state import Constraint
from retrieval.catalogues.schema import CatalogueSchema

NEGATIVE_FEEDBACK = re.compile(
    r"\b(none of (these|them|those)|not (this|that|these|those)( ones?)?|neither|nope|"
    r"no(ne)? good|i don'?t like (these|them|this|that))\b"
)
FEEDBACK_WORDS = frozenset({"none", "these", "those", "neither", "nope", "them"})


class RuleRewriter:
    """The default, no-LLM rewriter: the catalogue's phrase table, text-encoder matching, and
    rules for negation, "keep", and a new search versus a refinement.

    `schema` is the catalogue's (default: fmnist-color's); a schema without attributes passes
    the text through, cleaned.
    """

    name = "rules"
    llm_slots = 0  # never waits on a model
    calls = 0  # asks no model

    def __init__(self, encoder=None, schema: CatalogueSchema | None = None, shop_words=None):
        self.schema = schema
        has_attributes = schema is None or bool(schema.categorical)
        self.parser = (
            AttributeParser(encoder, schema, shop_words=shop_words) if has_attributes else None
        )

    @property
    def encoder(self):
        """The text encoder that matches words outside the phrase table (None: the table only)."""
        return self.parser.encoder if self.parser else None

    def warm_up(self) -> float:
        """Encode what reading words outside the lexicon needs (the values' anchors); the
        seconds it took (0 once done, or with no encoder)."""
        started = time.perf_counter()
        if self.parser is not None:
            self.parser.warm_up()
        return time.perf_counter() - started

    def rewrite(self, text: str) -> Rewrite:
        intent = read_intent(text)
        message_reading = {
            "rewriter": self.name,
            "negative_feedback": bool(NEGATIVE_FEEDBACK.search(text.lower())),
            "new_search": intent.new_request,
            "reset": intent.reset,
            "indefinite": intent.indefinite,
        }
        schema = self.parser.schema if self.parser else self.schema
        priced, limits, text = read_prices_and_limits(text, schema)
        message_reading["limits"] = limits
        if self.parser is None:
            return Rewrite(caption=text, unmapped=text, constraints=priced, **message_reading)
        tokens = tokenize(text)
        mentions = [m for m in self.parser.parse(text) if not _bare_number(tokens, m)]
        mentions = negated_after(tokens, mentions)
        constraints = _dedupe(
            [
                Constraint(attribute=m.attribute, value=m.value, polarity=m.polarity)
                for m in mentions
                if m.how != "tie"
            ]
        )
        ambiguities = [
            Ambiguity(
                word=" ".join(tokens[m.start : m.end]),
                options=[Constraint(attribute=a, value=v) for a, v in m.options],
            )
            for m in mentions
            if m.options and m.polarity == "require"
        ]
        reset_words = read_intent(text).reset_words if priced or limits else intent.reset_words
        mapped = {i for m in mentions for i in range(m.start, m.end)} | reset_words
        mapped |= _size_words_of(tokens, mentions)
        leftovers = _leftovers_for_the_caption(
            text,
            tokens,
            [
                i
                for i, t in enumerate(tokens)
                if i not in mapped and t not in FILLER and not _is_negation_or_feedback(t)
            ],
        )
        required = _caption_words(constraints, ambiguities)
        unmapped = " ".join(leftovers) if constraints or priced or not limits else ""
        caption = ", ".join(required + ([unmapped] if unmapped else []))
        return Rewrite(
            caption=caption,
            constraints=constraints + priced,
            unmapped=unmapped,
            ambiguities=ambiguities,
            **message_reading,
        )


def read_prices_and_limits(
    text: str, schema: CatalogueSchema | None
) -> tuple[list[Constraint], list[str], str]:
    """(price constraints, topics the catalogue cannot answer, the message without the words
    of either). Prices where the catalogue has none are the "price" limit."""
    readings, rest = read_prices(text)
    attribute = price_attribute(schema) if schema is not None else None
    priced = [
        Constraint(
            attribute=attribute,
            value=said(r),
            low=r.low,
            high=r.high,
            relative=r.relative,
            order=r.order,
        )
        for r in readings
        if attribute
    ]
    if schema is None:
        return priced, [], rest
    limits, rest = read_limits(rest, schema)
    if readings and not attribute and "price" not in limits:
        limits.insert(0, "price")
    return priced, limits, rest


def _bare_number(tokens: list[str], mention) -> bool:
    """A number read as a value ("30") that the shopper did not say as a size ("size 30",
    "in a 30"): never a size, nor any other value."""
    words = tokens[mention.start : mention.end]
    return all(w.isdigit() for w in words) and not number_said_as_size(tokens, mention.start)


def _size_words_of(tokens: list[str], mentions) -> set[int]:
    """The word "size" before a number read as a size ("size 32"): said by the value."""
    return {
        m.start - 1
        for m in mentions
        if m.start
        and tokens[m.start].isdigit()
        and number_said_as_size(tokens, m.start)
        and tokens[m.start - 1] != "in"
    }


def _caption_words(constraints: list[Constraint], ambiguities: list[Ambiguity]) -> list[str]:
    """The required values, an ambiguous word said as the shopper said it (not as a guess)."""
    unclear = {(a.options[0].attribute, a.options[0].value): a.word for a in ambiguities}
    words = [
        unclear.pop((c.attribute, c.value), c.value) for c in constraints if c.polarity == "require"
    ]
    return words + list(unclear.values())  # encoder ties: no constraint, only the word


def _leftovers_for_the_caption(text: str, tokens: list[str], kept: list[int]) -> list[str]:
    """The words left for the caption, the first one a negation reaches said as its opposite
    ("not so dark" -> "light", "no long sleeves" -> "short sleeves") or with its "not": text
    encoders read "dark" in "not dark" as dark."""
    clause_of, out, flipped = clauses(text), [], set()
    for i in kept:
        word, clause = tokens[i], clause_of[i]
        if clause not in flipped and AttributeParser.reads_as_negated(tokens, clause_of, i):
            flipped.add(clause)
            word = OPPOSITES.get(word, f"not {word}")
        out.append(word)
    return out


def _is_negation_or_feedback(token: str) -> bool:
    return token in NEGATORS or token in KEEPERS or token in FEEDBACK_WORDS


def _dedupe(constraints: list[Constraint]) -> list[Constraint]:
    """Last word wins per (attribute, polarity) for requires; avoids accumulate."""
    out: list[Constraint] = []
    for c in constraints:
        if c.polarity == "require":
            out = [o for o in out if not (o.attribute == c.attribute and o.polarity == "require")]
        out = [o for o in out if not (o.attribute == c.attribute and o.value == c.value)]
        out.append(c)
    return out
