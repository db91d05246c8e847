"""Constraints across turns: what a new request overrides and what persists."""

from __future__ import annotations

from agent.state import Constraint
from retrieval.catalogues.schema import CatalogueSchema


def merge_constraints(
    active: list[Constraint], new: list[Constraint], schema: CatalogueSchema | None = None
) -> list[Constraint]:
    """New constraints override contradicting old ones; the rest persist. Where attributes
    nest, a required value replaces the requirements of its whole family ("casual shoes"
    after "footwear"; "a watch" after "footwear")."""
    merged = list(active)
    for c in new:
        family = (
            schema.family(c.attribute)
            if schema and c.attribute in schema.attributes
            else {c.attribute}
        )
        if c.polarity == "require":
            # "actually plain" replaces "striped"; a required value is no longer avoided
            merged = [
                m
                for m in merged
                if not (m.polarity == "require" and m.attribute in family)
                and not (m.attribute == c.attribute and m.value == c.value)
            ]
        else:  # "not red" drops a required red
            merged = [m for m in merged if not (m.attribute == c.attribute and m.value == c.value)]
        merged.append(c)
    return merged
