"""How the shopper's words meet a catalogue's values, beyond the catalogue's own vocabulary
(`retrieval/catalogues/vocabulary.py`): the phrasings the text encoder compares a word with,
and the lexicon's words that could equally mean two values of this catalogue.
"""

from __future__ import annotations

from retrieval.catalogues.lexicon import Concept, key, load
from retrieval.catalogues.schema import CatalogueSchema
from retrieval.catalogues.vocabulary import resolve, value_keys

DEFAULT_CONTEXTS = ("{v}", "a {v} one")


def contexts(role: str | None) -> tuple[str, ...]:
    """The phrasings of a value of `role` that the text encoder compares a word with."""
    domain = load().domains.get(role or "")
    return domain.contexts if domain else DEFAULT_CONTEXTS


def _direct(schema: CatalogueSchema, role: str, concept: Concept) -> bool:
    """True when the catalogue has a value named by the concept itself."""
    wanted = [key(p) for p in (concept.name, *concept.words)]
    return any(any(k in value_keys(schema, a) for k in wanted) for a in schema.by_role(role))


def alternatives(schema: CatalogueSchema, role: str, name: str) -> list[tuple[str, str]]:
    """The values a concept could equally mean in this catalogue: where it has no value of
    its own and two or more of its broader concepts are different values of one attribute
    ("sneaker" -> Casual Shoes or Sports Shoes). Empty when its meaning is clear; the first
    is what `resolve` answers."""
    domain = load().domains.get(role)
    concept = domain.concepts.get(name) if domain else None
    if concept is None or len(concept.broader) < 2 or _direct(schema, role, concept):
        return []
    found = [resolve(schema, role, b, frozenset({name})) for b in concept.broader]
    found = [f for f in found if f]
    if not found:
        return []
    same = list(dict.fromkeys(f for f in found if f[0] == found[0][0]))
    return same if len(same) > 1 else []


def ambiguous_phrases(schema: CatalogueSchema) -> dict[str, list[tuple[str, str]]]:
    """Lexicon phrasing -> the values it could equally mean in this catalogue."""
    out: dict[str, list[tuple[str, str]]] = {}
    roles = dict.fromkeys(schema.role(a) for a in schema.categorical if schema.role(a))
    for role in roles:
        domain = load().domains.get(role)
        for concept in domain.concepts.values() if domain else ():
            options = alternatives(schema, role, concept.name)
            for phrase in (concept.name, *concept.words) if options else ():
                out.setdefault(phrase, options)
    return out
