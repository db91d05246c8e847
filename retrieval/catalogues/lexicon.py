"""The shipped general fashion lexicon (`data/lexicon.json`) and how it meets a catalogue.

A domain (colour, pattern, garment, gender, occasion, season) holds concepts, each with the
words shoppers use for it and the broader concepts it falls back to ("navy blue" -> "blue").
How concepts meet a catalogue's values is `retrieval/catalogues/vocabulary.py`; how a
shopper's words meet them is `agent/language/`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

LEXICON_FILE = Path(__file__).parent / "data" / "lexicon.json"
ROLE_OVERLAP = 0.3  # share of an attribute's values that must be a domain's concepts
CLEAR_OVERLAP = 0.6  # ... or, against a hint in the column's name, this share
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Concept:
    name: str
    words: tuple[str, ...]
    broader: tuple[str, ...] = ()


@dataclass(frozen=True)
class Domain:
    name: str
    hints: tuple[str, ...]
    contexts: tuple[str, ...]  # phrasings of a value the text encoder compares words with
    concepts: dict[str, Concept] = field(default_factory=dict)
    modifiers: frozenset[str] = frozenset()  # words that qualify a value: 'light' pink
    label: str = ""  # what a shopper calls an attribute of this domain: 'Colour'

    @cached_property
    def keys(self) -> dict[str, str]:
        """key -> concept name, of every concept's name and words."""
        out: dict[str, str] = {}
        for concept in self.concepts.values():
            for phrase in (concept.name, *concept.words):
                out.setdefault(key(phrase), concept.name)
        return out

    def concept_of(self, value: str) -> str | None:
        """The concept a catalogue value names: by its whole key ('T-Shirts' -> t-shirt), else
        when each of its words names one (modifiers aside: 'Light Pink' -> pink, 'Baby/Children'
        -> kids); None when a word names nothing of this domain ('Mens Underwear')."""
        found = self.keys.get(key(value))
        if found:
            return found
        words = [w for w in _WORD.findall(value.lower()) if w not in self.modifiers]
        named = [self.keys.get(key(w)) for w in words]
        if not words or not all(named):
            return None
        return named[-1]  # the head word: 'Khaki Green' -> green

    def qualifies(self, value: str) -> bool:
        """True for a value made of modifiers only ('Dark', 'Medium Dusty'): it speaks of
        this domain without naming a concept of it."""
        words = _WORD.findall(value.lower())
        return bool(words) and all(w in self.modifiers for w in words)


@dataclass(frozen=True)
class Lexicon:
    domains: dict[str, Domain]
    plural_only: frozenset[str]
    placeholders: frozenset[str] = frozenset()  # keys of values that say nothing: 'Other'


@lru_cache(maxsize=1)
def load() -> Lexicon:
    data = json.loads(LEXICON_FILE.read_text(encoding="utf-8"))
    domains = {
        name: Domain(
            name,
            tuple(d.get("hints", [])),
            tuple(d.get("contexts", ["{v}"])),
            {
                c: Concept(c, tuple(spec.get("words", [])), tuple(spec.get("broader", [])))
                for c, spec in d["concepts"].items()
            },
            frozenset(d.get("modifiers", [])),
            d.get("label", ""),
        )
        for name, d in data["domains"].items()
    }
    placeholders = frozenset(key(p) for p in data.get("placeholders", []))
    return Lexicon(domains, frozenset(data.get("plural_only", [])), placeholders)


def singular(word: str) -> str:
    """'dresses' -> 'dress', 'shoes' -> 'shoe', 'panties' -> 'panty' (for matching only)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def key(text: str) -> str:
    """A spelling-insensitive key: 'T-Shirts', 'tshirt' and 't shirt' all give 'tshirt'."""
    return "".join(singular(w) for w in _WORD.findall(text.lower()))


def role_shares(values: list[str]) -> dict[str, float]:
    """{domain: share of the distinct values that name one of its concepts or qualify one
    ('Dark')}, above zero."""
    shares = {}
    for domain in load().domains.values():
        known = sum(domain.concept_of(v) is not None or domain.qualifies(v) for v in values)
        if known:
            shares[domain.name] = known / max(len(values), 1)
    return shares


def hinted_role(column: str) -> str | None:
    """The first domain whose hint the column's name holds ('baseColour' -> color)."""
    lowered = column.lower()
    hinted = [d.name for d in load().domains.values() if any(h in lowered for h in d.hints)]
    return hinted[0] if hinted else None


def infer_role(column: str, values: list[str]) -> str | None:
    """The domain an attribute speaks of: by what its values name (ROLE_OVERLAP of its
    distinct values or more, the largest share), else by a hint in its column name; a hint
    outweighs values that name another domain less than CLEAR_OVERLAP ('brand' holding a
    brand called 'Knits')."""
    shares = role_shares([v for v in values if not is_placeholder(v)])
    best = max(shares, key=shares.get, default=None)
    hinted = hinted_role(column)
    if best and shares[best] >= (CLEAR_OVERLAP if hinted and hinted != best else ROLE_OVERLAP):
        return best
    return hinted


def is_placeholder(value: str) -> bool:
    """A value that says nothing to a shopper: 'Other', 'Unknown', 'N/A', 'Other pattern'
    (a placeholder word and no concept of any domain after it; 'Other Pink' is a colour)."""
    placeholders = load().placeholders
    if key(value) in placeholders:
        return True
    words = _WORD.findall(value.lower())
    if not words or words[0] not in placeholders:
        return False
    rest = " ".join(words[1:])
    return not any(d.concept_of(rest) for d in load().domains.values() if rest)
