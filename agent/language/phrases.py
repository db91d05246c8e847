"""The phrase table of a catalogue: every way a shopper may name one of its values.

Built once per schema from, in order of precedence: the values themselves with their plural,
singular, hyphen and spacing variants ("Tshirts" -> "tshirt", "Flip Flops" -> "flip flop",
"flipflops"); the schema's synonyms; the shipped lexicon's words that mean a value of this
catalogue (retrieval/catalogues/vocabulary.py; the words that could mean two values:
agent/language/vocabulary.py). A phrase that could mean values of two nested
attributes means the narrower one ("watches": articleType, not subCategory).
"""

from __future__ import annotations

import difflib
import json
import re
from functools import cached_property
from pathlib import Path

from agent.language.vocabulary import ambiguous_phrases
from retrieval.catalogues import lexicon
from retrieval.catalogues.schema import CatalogueSchema
from retrieval.catalogues.vocabulary import value_phrases

_WORDS = json.loads((Path(__file__).parent / "words.json").read_text(encoding="utf-8"))
# Words of the conversation: a catalogue value spelt like one ('Other', 'All', 'One') is
# never read from that word alone (its longer forms still are).
CONVERSATION_WORDS = frozenset(
    _WORDS["stopwords"] + _WORDS["non_attribute_words"] + _WORDS["negators"] + _WORDS["keepers"]
)
TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*|[,.;!?:()]")
SUFFIXES = ("-coloured", "-colored", "coloured", "colored", "-ish", "ish", "-y", "es", "s", "y")
MIN_FUZZY_LENGTH = 5  # words this long or longer may match a close misspelling
FUZZY_CUTOFF = 0.85

Phrase = tuple[str, ...]
Meaning = tuple[str, str]  # (attribute, value as the metadata writes it)


def tokenize(text: str) -> list[str]:
    """Lower-case words (punctuation dropped)."""
    return [t for t in TOKEN.findall(text.lower()) if t[0].isalnum()]


def _plural(word: str) -> str:
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def surface_forms(value: str) -> list[Phrase]:
    """Ways of writing a value: as is, hyphens split or joined, words run together, and the
    last word's singular (unless the noun is plural-only, like 'shorts') or plural."""
    tokens = tuple(tokenize(value))
    if not tokens:
        return []
    forms = [tokens]
    if any("-" in t for t in tokens):
        forms.append(tuple(p for t in tokens for p in t.split("-")))
        forms.append(tuple(t.replace("-", "") for t in tokens))
    if len(tokens) > 1:
        forms.append(("".join(t.replace("-", "") for t in tokens),))
    for form in list(forms):
        last = form[-1]
        single = lexicon.singular(last)
        if single != last and last not in lexicon.load().plural_only:
            forms.append((*form[:-1], single))
        elif single == last and not last.isdigit():
            forms.append((*form[:-1], _plural(last)))
    return list(dict.fromkeys(forms))


def value_forms(value: str) -> list[Phrase]:
    """The surface forms a shopper's words may name a value by: none for a placeholder
    ('Other', 'Unknown'), and no single word of the conversation ('other' in "in other
    colours" is no colour)."""
    if lexicon.is_placeholder(value):
        return []
    return [f for f in surface_forms(value) if not (len(f) == 1 and f[0] in CONVERSATION_WORDS)]


class PhraseTable:
    """Token tuples -> (attribute, value) for one catalogue schema."""

    def __init__(self, schema: CatalogueSchema):
        self.schema = schema
        self.table: dict[Phrase, Meaning] = {}
        attributes = sorted(schema.categorical, key=lambda a: -schema.depth(a))  # narrow first
        for attribute in attributes:  # 1. the values and their variants
            for value in schema.attributes[attribute].values:
                self._add(value_forms(value), (attribute, value))
        for attribute in attributes:  # 2. the schema's synonyms
            for value, phrases in schema.attributes[attribute].synonyms.items():
                self._add([tuple(tokenize(p)) for p in phrases], (attribute, value))
        for meaning, phrases in value_phrases(schema).items():  # 3. the lexicon's words
            self._add(
                [tuple(p) for p in map(tokenize, phrases) if self._whole(p, meaning)], meaning
            )
        self.longest = max((len(k) for k in self.table), default=1)
        # Phrases the lexicon reads as one of several values equally (a schema's own value
        # or synonym wins: then the phrase is not ambiguous).
        self.ambiguous: dict[Phrase, list[Meaning]] = {}
        for phrase, options in ambiguous_phrases(schema).items():
            words = tuple(tokenize(phrase))
            if self.table.get(words) == options[0]:
                self.ambiguous[words] = options

    def _whole(self, phrase: list[str], meaning: Meaning) -> bool:
        """False for a lexicon phrase of several words one of which names a value of another
        attribute: "denim jacket" is Denim and Jacket where a catalogue has a Denim pattern."""
        family = self.schema.family(meaning[0])
        return len(phrase) < 2 or not any(
            self.table.get((word,), meaning)[0] not in family for word in phrase
        )

    def _add(self, phrases: list[Phrase], meaning: Meaning) -> None:
        for phrase in phrases:
            if phrase:
                self.table.setdefault(phrase, meaning)

    @cached_property
    def single_words(self) -> list[str]:
        return [k[0] for k in self.table if len(k) == 1 and len(k[0]) >= 4]

    def options(self, words: Phrase) -> list[Meaning]:
        """The values a phrase could equally mean ([] when it is clear), plurals included."""
        found = self.ambiguous.get(words)
        if found is None and len(words) == 1:
            found = self.ambiguous.get((lexicon.singular(words[0]),))
        return found or []

    def lookup(self, words: Phrase) -> Meaning | None:
        """Exact, then for one word: without suffixes (-ish, -y, plurals), its hyphenated
        parts, then a close spelling."""
        found = self.table.get(words)
        if found or len(words) != 1:
            return found
        word = words[0]
        for suffix in SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                found = self.table.get((word[: -len(suffix)],))
                if found:
                    return found
        if "-" in word:
            parts = [self.lookup((p,)) for p in word.split("-")]
            parts = [p for p in parts if p]
            if len(set(parts)) == 1:
                return parts[0]
        if len(word) >= MIN_FUZZY_LENGTH:  # a typo keeps its first letter: "number" is no "umber"
            near = [w for w in self.single_words if w[0] == word[0]]
            close = difflib.get_close_matches(word, near, n=1, cutoff=FUZZY_CUTOFF)
            if close:
                return self.table[(close[0],)]
        return None
