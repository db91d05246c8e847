"""A catalogue's vocabulary: its values, their schema synonyms, and the lexicon's words.

A lexicon concept maps onto a catalogue value whose name or schema synonym it matches
(after plurals, hyphens and spacing: "t-shirt" meets "Tshirts"), else onto the first of its
broader concepts that the catalogue has ("navy blue" -> "blue" in a catalogue without navy),
else onto nothing: the text encoder judges such words at run time.
"""

from __future__ import annotations

from retrieval.catalogues.lexicon import Concept, key, load
from retrieval.catalogues.schema import CatalogueSchema


def _value_keys(schema: CatalogueSchema, attribute: str) -> dict[str, str]:
    """key -> value, from the attribute's values and their schema synonyms."""
    spec = schema.attributes[attribute]
    keys = {}
    for value in spec.values:
        for phrase in [value, *spec.synonyms.get(value, [])]:
            keys.setdefault(key(phrase), value)
    return keys


def resolve(
    schema: CatalogueSchema, role: str, name: str, seen: frozenset[str] = frozenset()
) -> tuple[str, str] | None:
    """(attribute, value) of the catalogue that a concept (or plain word) of `role` means:
    the deepest attribute with a matching value, else the first broader concept found."""
    domain = load().domains.get(role)
    attributes = schema.by_role(role)
    if domain is None or not attributes or name in seen:
        return None
    concept = domain.concepts.get(name, Concept(name, ()))
    wanted = [key(p) for p in (concept.name, *concept.words)]
    for attribute in sorted(attributes, key=lambda a: -schema.depth(a)):
        keys = _value_keys(schema, attribute)
        found = next((keys[k] for k in wanted if k in keys), None)
        if found:
            return attribute, found
    found = _named_word_by_word(schema, domain, attributes, concept.name)
    if found:
        return found
    for broader in concept.broader:
        found = resolve(schema, role, broader, seen | {name})
        if found:
            return found
    return None


def _named_word_by_word(schema, domain, attributes, name: str) -> tuple[str, str] | None:
    """The value whose every word means the concept ('Baby/Children' for kids); never a value
    that only contains one of its words ('Mens Underwear' is no value for men)."""
    for attribute in sorted(attributes, key=lambda a: -schema.depth(a)):
        values = schema.attributes[attribute].values
        found = next((v for v in values if domain.concept_of(v) == name), None)
        if found:
            return attribute, found
    return None


def _direct(schema: CatalogueSchema, role: str, concept: Concept) -> bool:
    """True when the catalogue has a value named by the concept itself."""
    wanted = [key(p) for p in (concept.name, *concept.words)]
    return any(any(k in _value_keys(schema, a) for k in wanted) for a in schema.by_role(role))


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


def value_phrases(schema: CatalogueSchema) -> dict[tuple[str, str], list[str]]:
    """(attribute, value) -> the lexicon's phrasings that mean it in this catalogue."""
    out: dict[tuple[str, str], list[str]] = {}
    roles = dict.fromkeys(schema.role(a) for a in schema.categorical if schema.role(a))
    for role in roles:
        domain = load().domains.get(role)
        for concept in domain.concepts.values() if domain else ():
            found = resolve(schema, role, concept.name)
            if found:
                out.setdefault(found, []).extend([concept.name, *concept.words])
    return out
