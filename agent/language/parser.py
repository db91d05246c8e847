"""Find attribute values (colour, pattern, category) named in free text, with polarity.

A lexicon maps known words and phrases to canonical values; words it does not know are
compared with the values by the text encoder, and accepted when the match is clear.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from retrieval.catalogues.fmnist_vocab import ATTRIBUTES, TRAIN_SYNONYMS

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

# Words beyond the canonical names and training synonyms: plurals, spellings, associations.
EXTRA_LEXICON: dict[str, dict[str, list[str]]] = {
    "color": {
        "black": ["night sky", "jet", "coal", "night", "ink", "inky", "blackish"],
        "white": ["snow", "snowy", "milk", "milky", "whitish"],
        "grey": ["greyish", "grayish", "silver", "charcoal", "ash", "smoke", "smoky"],
        "red": ["crimson", "scarlet", "reddish", "blood", "fire", "tomato", "strawberry", "wine"],
        "pink": ["pinkish", "flamingo", "salmon", "fuchsia"],
        "orange": ["orangey", "carrot", "peach", "apricot", "rust"],
        "yellow": ["yellowish", "banana", "sunny", "sunshine", "gold", "golden", "mustard"],
        "green": ["greenish", "grass", "grassy", "leaf", "forest", "olive", "lime", "mint"],
        "blue": ["bluish", "blueish", "ocean", "sea", "sky", "denim", "navy", "teal"],
        "purple": ["purplish", "lavender", "lilac", "grape", "plum"],
        "brown": ["brownish", "coffee", "wood", "wooden", "chestnut", "tan", "cocoa"],
        "beige": ["sand", "sandy", "khaki", "ivory", "nude", "oatmeal", "camel"],
    },
    "pattern": {
        "plain": [
            "plain colour",
            "solid colour",
            "no pattern",
            "patternless",
            "unpatterned",
            "one colour",
            "single colour",
            "no print",
        ],
        "striped": [
            "stripes",
            "stripe",
            "stripey",
            "pinstripes",
            "pinstripe",
            "pinstriped",
            "lines",
        ],
        "dotted": ["dots", "dot", "spots", "spot", "polka", "polka dots", "polka-dot", "polka dot"],
        "checked": ["checks", "checkered", "plaid", "gingham", "tartan", "grid"],
    },
    "category": {
        "t-shirt": ["t-shirts", "tees", "tshirts", "top", "tops"],
        "trousers": ["trouser", "pant", "jeans", "slacks", "leggings"],
        "pullover": ["pullovers", "sweaters", "jumper", "jumpers", "hoodie", "hoodies"],
        "dress": ["dresses", "gown", "gowns", "sundress"],
        "coat": ["coats", "jackets", "parka", "overcoat", "blazer", "raincoat"],
        "sandal": ["flip-flops", "flip flops", "slides"],
        "shirt": ["shirts", "blouses", "button-down", "button down"],
        "sneaker": ["sneakers", "trainer", "running shoes", "running shoe", "kicks"],
        "bag": ["bags", "handbags", "purse", "purses", "tote", "backpack", "clutch"],
        "ankle boot": ["ankle-boot", "boot", "booties", "bootie", "chelsea boots"],
    },
}

TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*|[,.;!?:()]")
SUFFIXES = ("-coloured", "-colored", "coloured", "colored", "-ish", "ish", "-y", "es", "s", "y")


@dataclass(frozen=True)
class Mention:
    attribute: str
    value: str
    polarity: str  # "require" or "avoid"
    start: int  # token span [start, end)
    end: int
    how: str  # "lexicon" or "encoder"
    keep: bool = False


def tokenize(text: str) -> list[str]:
    """Lower-case words (punctuation dropped)."""
    return [t for t in TOKEN.findall(text.lower()) if t[0].isalnum()]


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


def build_lexicon() -> dict[tuple[str, ...], tuple[str, str]]:
    """Token tuples -> (attribute, canonical value)."""
    lexicon: dict[tuple[str, ...], tuple[str, str]] = {}
    sources = [ATTRIBUTES, TRAIN_SYNONYMS, EXTRA_LEXICON]
    for source in sources:
        for attribute, values in source.items():
            entries = values.items() if isinstance(values, dict) else ((v, [v]) for v in values)
            for value, phrases in entries:
                for phrase in [value, *phrases]:
                    lexicon.setdefault(tuple(tokenize(phrase)), (attribute, value))
    return lexicon


class AttributeParser:
    """Mentions of catalogue attribute values in a message."""

    def __init__(self, encoder=None, min_similarity: float = 0.6, min_margin: float = 0.04):
        self.encoder = encoder
        self.lexicon = build_lexicon()
        self.longest = max(len(k) for k in self.lexicon)
        self.min_similarity, self.min_margin = min_similarity, min_margin

    @cached_property
    def _anchors(self) -> tuple[list[tuple[str, str]], np.ndarray]:
        """Encoder vectors of every value in a few contexts, for words outside the lexicon."""
        labels, texts = [], []
        contexts = {
            "color": ["{v}", "the colour {v}", "a {v} shirt"],
            "pattern": ["{v}", "{v} fabric", "a {v} shirt"],
            "category": ["{v}", "a {v}", "a red {v}"],
        }
        for attribute, values in ATTRIBUTES.items():
            for value in values:
                for context in contexts[attribute]:
                    labels.append((attribute, value))
                    texts.append(context.format(v=value))
        return labels, self.encoder.encode_texts(texts)

    def parse(self, text: str) -> list[Mention]:
        tokens, clause_of = tokenize(text), clauses(text)
        spans, used = self._lexicon_spans(tokens)
        if self.encoder is not None:
            spans += self._encoder_spans(tokens, used)
        mentions = [self._mention(tokens, clause_of, *span) for span in spans]
        mentions += self._pattern_word_mentions(tokens, clause_of, used)
        return sorted(mentions, key=lambda m: m.start)

    def _pattern_word_mentions(self, tokens, clause_of, used) -> list[Mention]:
        """'no busy patterns' -> plain required; 'something patterned' -> plain avoided."""
        found = []
        for i, token in enumerate(tokens):
            if i in used or token not in PATTERN_WORDS:
                continue
            said = self._mention(tokens, clause_of, i, i + 1, "pattern", "plain", "lexicon")
            if said.polarity == "avoid":
                found.append(Mention("pattern", "plain", "require", i, i + 1, "lexicon"))
            elif token == "patterned":
                found.append(Mention("pattern", "plain", "avoid", i, i + 1, "lexicon"))
        return found

    def _lookup(self, words: tuple[str, ...]) -> tuple[str, str] | None:
        """Exact, then for one word: without suffixes (-ish, -y, plurals), then close spellings."""
        found = self.lexicon.get(words)
        if found or len(words) != 1:
            return found
        word = words[0]
        for suffix in SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                found = self.lexicon.get((word[: -len(suffix)],))
                if found:
                    return found
        if "-" in word:
            parts = [self._lookup((p,)) for p in word.split("-")]
            parts = [p for p in parts if p]
            if len(set(parts)) == 1:
                return parts[0]
        if len(word) >= 5:
            close = difflib.get_close_matches(word, self._single_words, n=1, cutoff=0.85)
            if close:
                return self.lexicon[(close[0],)]
        return None

    @cached_property
    def _single_words(self) -> list[str]:
        return [k[0] for k in self.lexicon if len(k) == 1 and len(k[0]) >= 4]

    def _lexicon_spans(self, tokens: list[str]) -> tuple[list[tuple], set[int]]:
        spans, used, i = [], set(), 0
        while i < len(tokens):
            for n in range(min(self.longest, len(tokens) - i), 0, -1):
                found = self._lookup(tuple(tokens[i : i + n]))
                if found and not (n == 1 and tokens[i] in NEGATORS | KEEPERS | STOPWORDS):
                    spans.append((i, i + n, *found, "lexicon"))
                    used.update(range(i, i + n))
                    i += n
                    break
            else:
                i += 1
        return spans, used

    def _encoder_spans(self, tokens: list[str], used: set[int]) -> list[tuple]:
        spans = [
            (i, i + 1)
            for i, tok in enumerate(tokens)
            if i not in used
            and tok not in STOPWORDS
            and tok not in PATTERN_WORDS
            and tok not in NON_ATTRIBUTE_WORDS
            and tok not in NEGATORS
            and tok not in KEEPERS
            and not tok.isdigit()
            and len(tok) > 2
        ]
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
            (label, top), (_, second) = ranked[0], ranked[1]
            if top >= self.min_similarity and top - second >= self.min_margin:
                mentions.append((a, b, *label, "encoder"))
        return mentions

    @staticmethod
    def _mention(tokens, clause_of, start, end, attribute, value, how) -> Mention:
        """Polarity and 'keep' from the words before the mention, within its clause."""
        first = start
        while first > 0 and start - first < 4 and clause_of[first - 1] == clause_of[start]:
            first -= 1
        window = tokens[first:start]
        pairs = set(zip(window, window[1:])) | set(zip(window, window[1:], window[2:]))
        negated = any(w in NEGATORS for w in window) or bool(pairs & NEGATOR_PHRASES)
        keep = any(w in KEEPERS for w in window)
        return Mention(attribute, value, "avoid" if negated else "require", start, end, how, keep)


def apply_mentions(attributes: dict[str, str], mentions: list[Mention]) -> dict[str, str]:
    """Attributes after the required changes (avoided values are dropped if present)."""
    edited = dict(attributes)
    for m in mentions:
        if m.polarity == "require":
            edited[m.attribute] = m.value
        elif edited.get(m.attribute) == m.value:
            edited.pop(m.attribute)
    return edited
