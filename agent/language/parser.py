"""Find a catalogue's attribute values named in free text, with polarity ("not red").

The catalogue's phrase table (values, schema synonyms, the shipped lexicon) maps known words
and phrases to its values; words it does not know are compared with the values by the text
encoder, and accepted when the match is clear. Negation and "keep" are read from the words
before a mention, within its clause; where attributes nest, the narrowest named one wins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from agent.language import vocabulary
from agent.language.intent import other_colours_words
from agent.language.phrases import TOKEN, PhraseTable, tokenize
from retrieval.catalogues.schema import CatalogueSchema, fmnist_schema
from retrieval.catalogues.vocabulary import resolve

_WORDS = json.loads((Path(__file__).parent / "words.json").read_text(encoding="utf-8"))
NEGATORS = frozenset(_WORDS["negators"])
NEGATOR_PHRASES = frozenset(tuple(p.split()) for p in _WORDS["negator_phrases"])
# "no pattern", "without prints": a negated pattern word asks for plain; "patterned" avoids it.
PATTERN_WORDS = frozenset(_WORDS["pattern_words"])
# Words that end a clause, so a negation before them does not reach past them.
CLAUSE_BREAKERS = frozenset(_WORDS["clause_breakers"])
# Words the encoder check never maps to a value (tests/agent/language/test_parser.py checks
# it): skipping them saves a text-encoder pass on turns like "could it be blue" (speed only).
NON_ATTRIBUTE_WORDS = frozenset(_WORDS["non_attribute_words"])
KEEPERS = frozenset(_WORDS["keepers"])
STOPWORDS = frozenset(_WORDS["stopwords"])
FILLER = STOPWORDS | frozenset(_WORDS["filler"])  # dropped from captions
OPPOSITES = _WORDS["opposites"]  # a negated word the caption says as its opposite
NEGATION_REACH = 4  # words before a mention that may negate it
NONE = (("", ""), -1.0)  # no runner-up value


def conversation_words(tokens: list[str]) -> frozenset[int]:
    """Positions of words that speak to the agent, not of a value: "in other colours" asks
    for the other-colours action, whatever colour a catalogue names 'Other'."""
    return other_colours_words(tokens)


@dataclass(frozen=True)
class Mention:
    attribute: str
    value: str
    polarity: str  # "require" or "avoid"
    start: int  # token span [start, end)
    end: int
    how: str  # "lexicon", "encoder", or "tie": the encoder found two values equally close
    keep: bool = False
    options: tuple[tuple[str, str], ...] = ()  # the values it could equally mean, if several


def clauses(text: str) -> list[int]:
    """Clause number of each word of `tokenize(text)`: punctuation and words like 'but' end a clause."""
    numbers, current, previous = [], 0, ""
    for token in TOKEN.findall(text.lower()):
        if not token[0].isalnum():
            current += 1
        elif token in CLAUSE_BREAKERS and previous not in (
            "anything",
            "everything",
            "all",
            "other",
        ):
            current += 1
            numbers.append(current)
        else:
            numbers.append(current)
        previous = token
    return numbers


class AttributeParser:
    """Mentions of a catalogue's attribute values in a message."""

    def __init__(
        self,
        encoder=None,
        schema: CatalogueSchema | None = None,
        min_similarity: float = 0.6,
        min_margin: float = 0.04,
        shop_words=None,
    ):
        """`shop_words(words)`: those of the words the shop's own texts hold (its text
        index's `known`; None: no texts). Such a word, outside the lexicon, is the shop's own
        (a brand, a product line): it stays in the caption to be searched as text, never
        read as a value by its likeness to one ("nike" is no kind of shoe)."""
        self.encoder, self.shop_words = encoder, shop_words
        self.schema = schema or fmnist_schema()
        self.phrases = PhraseTable(self.schema)
        self.min_similarity, self.min_margin = min_similarity, min_margin
        self.plain = self._plain_value()

    def _plain_value(self) -> tuple[str, str] | None:
        """The pattern attribute's 'plain' value, which "no pattern" asks for."""
        return resolve(self.schema, "pattern", "plain")

    @cached_property
    def _anchors(self) -> tuple[list[tuple[str, str]], np.ndarray]:
        """Encoder vectors of every value in a few contexts, for words outside the lexicon."""
        labels, texts = [], []
        for attribute in self.schema.categorical:
            contexts = vocabulary.contexts(self.schema.role(attribute))
            for value in self.schema.attributes[attribute].values:
                for context in contexts:
                    labels.append((attribute, value))
                    texts.append(context.format(v=value.lower()))
        return labels, self.encoder.encode_texts(texts)

    def warm_up(self) -> None:
        """Encode the values' anchors now (the first message with a word outside the lexicon
        would otherwise: about 1 s on fashion-products, while every turn behind it waits)."""
        if self.encoder is not None and self.schema.categorical:
            self._anchors  # noqa: B018 (a cached property, computed here)

    def parse(self, text: str) -> list[Mention]:
        tokens, clause_of = tokenize(text), clauses(text)
        spans, used = self._lexicon_spans(tokens, conversation_words(tokens))
        if self.encoder is not None and self.schema.categorical:
            spans += self._encoder_spans(tokens, used)
        mentions = [self._mention(tokens, clause_of, *span) for span in spans]
        mentions += self._pattern_word_mentions(tokens, clause_of, used)
        return self._narrowest(sorted(mentions, key=lambda m: m.start))

    def _narrowest(self, mentions: list[Mention]) -> list[Mention]:
        """Where a message requires values of nested attributes, keep the narrowest one:
        "casual shoes, footwear" is casual shoes; "footwear for men" keeps footwear."""
        required = [m for m in mentions if m.polarity == "require" and m.how != "tie"]
        depth = self.schema.depth
        return [
            m
            for m in mentions
            if m.polarity != "require"
            or not any(
                o.attribute in self.schema.family(m.attribute)
                and depth(o.attribute) > depth(m.attribute)
                for o in required
            )
        ]

    def _pattern_word_mentions(self, tokens, clause_of, used) -> list[Mention]:
        """'no busy patterns' -> plain required; 'something patterned' -> plain avoided."""
        if self.plain is None:
            return []
        attribute, plain = self.plain
        found = []
        for i, token in enumerate(tokens):
            if i in used or token not in PATTERN_WORDS:
                continue
            said = self._mention(tokens, clause_of, i, i + 1, attribute, plain, "lexicon")
            if said.polarity == "avoid":
                found.append(Mention(attribute, plain, "require", i, i + 1, "lexicon"))
            elif token == "patterned":
                found.append(Mention(attribute, plain, "avoid", i, i + 1, "lexicon"))
        return found

    def _lexicon_spans(self, tokens: list[str], taken: frozenset[int]) -> tuple[list, set[int]]:
        """Spans of the phrase table's phrases, longest first; the `taken` words (phrases of
        the conversation) are no attribute's, though they are also the encoder's to skip."""
        spans, used, i = [], set(taken), 0
        skip_alone = NEGATORS | KEEPERS | STOPWORDS
        while i < len(tokens):
            if i in taken:
                i += 1
                continue
            for n in range(min(self.phrases.longest, len(tokens) - i), 0, -1):
                words = tuple(tokens[i : i + n])
                found = self.phrases.lookup(words)
                if (
                    found
                    and not (n == 1 and tokens[i] in skip_alone)
                    and not taken & set(range(i, i + n))
                ):
                    spans.append((i, i + n, *found, "lexicon", self.phrases.options(words)))
                    used.update(range(i, i + n))
                    i += n
                    break
            else:
                i += 1
        return spans, used

    def _encoder_spans(self, tokens: list[str], used: set[int]) -> list[tuple]:
        skip = STOPWORDS | PATTERN_WORDS | NON_ATTRIBUTE_WORDS | NEGATORS | KEEPERS
        spans = [
            (i, i + 1)
            for i, tok in enumerate(tokens)
            if i not in used and tok not in skip and not tok.isdigit() and len(tok) > 2
        ]
        if spans and self.shop_words is not None:
            held = set(self.shop_words([tokens[a] for a, _ in spans]))
            spans = [(a, b) for a, b in spans if tokens[a] not in held]
        if not spans:
            return []
        labels, anchors = self._anchors
        vectors = self.encoder.encode_texts([" ".join(tokens[a:b]) for a, b in spans])
        mentions = []
        for (a, b), sims in zip(spans, vectors @ anchors.T):
            best = {}
            for label, sim in zip(labels, sims):
                best[label] = max(best.get(label, -1.0), float(sim))
            ranked = sorted(best.items(), key=lambda kv: -kv[1])
            (label, top), (runner_up, second) = ranked[0], ranked[1] if len(ranked) > 1 else NONE
            if top < self.min_similarity:
                continue
            if top - second >= self.min_margin:
                mentions.append((a, b, *label, "encoder", ()))
            elif second >= self.min_similarity and runner_up[0] == label[0]:
                mentions.append((a, b, *label, "tie", (label, runner_up)))
        return mentions

    @staticmethod
    def reads_as_negated(tokens: list[str], clause_of: list[int], at: int) -> bool:
        """True when a negation before word `at`, within its clause, reaches it."""
        said = AttributeParser._mention(tokens, clause_of, at, at + 1, "", "", "")
        return said.polarity == "avoid"

    @staticmethod
    def _mention(tokens, clause_of, start, end, attribute, value, how, options=()) -> Mention:
        """Polarity and 'keep' from the words before the mention, within its clause."""
        first = start
        while (
            first > 0
            and start - first < NEGATION_REACH
            and clause_of[first - 1] == clause_of[start]
        ):
            first -= 1
        window = tokens[first:start]
        pairs = set(zip(window, window[1:])) | set(zip(window, window[1:], window[2:]))
        negated = any(w in NEGATORS for w in window) or bool(pairs & NEGATOR_PHRASES)
        keep = any(w in KEEPERS for w in window)
        polarity = "avoid" if negated else "require"
        return Mention(attribute, value, polarity, start, end, how, keep, tuple(options))
