"""The shipped general fashion lexicon (`data/lexicon.json`) and how it meets a catalogue.

A domain (colour, pattern, garment, gender, occasion, season) holds concepts, each with the
words shoppers use for it and the broader concepts it falls back to ("navy blue" -> "blue").
How concepts meet a catalogue's values is `retrieval/catalogues/vocabulary.py`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

LEXICON_FILE = Path(__file__).parent / "data" / "lexicon.json"
ROLE_OVERLAP = 0.3  # share of an attribute's values that must be a domain's concepts
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


@dataclass(frozen=True)
class Lexicon:
    domains: dict[str, Domain]
    plural_only: frozenset[str]


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
        )
        for name, d in data["domains"].items()
    }
    return Lexicon(domains, frozenset(data.get("plural_only", [])))


DEFAULT_CONTEXTS = ("{v}", "a {v} one")


def contexts(role: str | None) -> tuple[str, ...]:
    domain = load().domains.get(role or "")
    return domain.contexts if domain else DEFAULT_CONTEXTS


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


def infer_role(column: str, values: list[str]) -> str | None:
    """The domain an attribute speaks of: by its values' overlap with the domain's concepts,
    else by a hint in its column name ('baseColour' -> colour)."""
    keys = {key(v) for v in values}
    best, best_share = None, 0.0
    for domain in load().domains.values():
        known = {key(c.name) for c in domain.concepts.values()}
        known |= {key(w) for c in domain.concepts.values() for w in c.words}
        share = len(keys & known) / max(len(keys), 1)
        if share > best_share:
            best, best_share = domain.name, share
    if best_share >= ROLE_OVERLAP:
        return best
    lowered = column.lower()
    hinted = [d.name for d in load().domains.values() if any(h in lowered for h in d.hints)]
    return hinted[0] if hinted else None
