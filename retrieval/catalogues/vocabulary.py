"""A catalogue's vocabulary: its values, their schema synonyms, and the lexicon's words.

A lexicon concept maps onto a catalogue value whose name or schema synonym it matches
(after plurals, hyphens and spacing: "t-shirt" meets "Tshirts"), else onto the first of its
broader concepts that the catalogue has ("navy blue" -> "blue" in a catalogue without navy),
else onto nothing: the text encoder judges such words at run time. Which words a shopper may
mean two values by is the agent's reading (agent/language/vocabulary.py).
"""

from __future__ import annotations

from retrieval.catalogues.lexicon import Concept, key, load
from retrieval.catalogues.schema import CatalogueSchema


def value_keys(schema: CatalogueSchema, attribute: str) -> dict[str, str]:
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
        keys = value_keys(schema, attribute)
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
