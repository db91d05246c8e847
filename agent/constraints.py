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
        if numeric(c, schema):  # a new price range replaces the old range, an order the order
            merged = [m for m in merged if not _same_numeric(m, c, schema)]
            merged.append(c)
            continue
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


def numeric(c: Constraint, schema: CatalogueSchema | None = None) -> bool:
    """A bound or an order on a numeric attribute (a filter may give one as words only)."""
    spec = schema.attributes.get(c.attribute) if schema else None
    return c.numeric or (spec is not None and spec.kind == "numeric")


def _same_numeric(old: Constraint, new: Constraint, schema: CatalogueSchema | None) -> bool:
    return old.attribute == new.attribute and numeric(old, schema) and old.ordering == new.ordering
