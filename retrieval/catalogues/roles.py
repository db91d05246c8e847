"""One column per role: of several columns that speak of one thing (three colour columns,
two department columns), the most useful stays an attribute and the others become its
synonyms (a value of theirs that always comes with one of its values names that value:
'Dark Blue' -> Blue). The kind of item keeps its nesting family (articleType, subCategory,
masterCategory); another column of kinds beside it is merged the same way.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

from retrieval.catalogues import lexicon
from retrieval.catalogues.columns import MIN_NESTING_ROWS, cell_values, determines, shopper_facing

SYNONYM_PURITY = 0.9  # share of a merged value's rows that must carry one kept value
MODERATE_VALUES = 24  # more values than this make a column less useful to a shopper
CARDINALITY_WEIGHT = 0.1  # usefulness lost per doubling of the values past MODERATE_VALUES
AS_USEFUL = 0.1  # a broader column this much less useful (or less) is still preferred
MIN_BROAD_VALUES = 3  # a broader column needs this many values to be a shopper's filter


def usefulness(spec, role: str) -> float:
    """How shopper-like a column of `role` is: the share of its values (distinct and by
    items) that name the lexicon's concepts, less a little for very many values."""
    domain = lexicon.load().domains.get(role)
    values = [v for v in spec.values if shopper_facing(v)]
    if not values or domain is None:
        return -1.0
    named = [v for v in values if domain.concept_of(v)]
    by_items = sum(spec.counts.get(v, 0) for v in named) / max(sum(spec.counts.values()), 1)
    share = (len(named) / len(values) + by_items) / 2
    return share - CARDINALITY_WEIGHT * max(0.0, math.log2(len(values) / MODERATE_VALUES))


def _broadest_as_useful(attributes: dict, rows: list[dict[str, str]], names, role) -> str:
    """The most useful column of a role; a broader one that it nests under and that is about
    as useful wins ('Blue' over 'Dark Blue' / 'Light Blue': a shopper's "blue" finds both)."""
    score = {n: usefulness(attributes[n], role) for n in names}
    kept = max(names, key=lambda n: (score[n], -names.index(n)))
    broader = [
        n
        for n in names
        if n != kept
        and MIN_BROAD_VALUES <= len(attributes[n].values) < len(attributes[kept].values)
        and score[n] >= score[kept] - AS_USEFUL
        and determines(rows, kept, n, SYNONYM_PURITY)
    ]
    return max(broader, key=lambda n: score[n]) if broader else kept


def _family(attributes: dict, name: str) -> set[str]:
    """`name`, the attributes it nests under and those nesting under it."""

    def up(n: str) -> list[str]:
        out = []
        while attributes[n].parent in attributes and attributes[n].parent not in out:
            n = attributes[n].parent
            out.append(n)
        return out

    root = ([name, *up(name)])[-1]
    return {n for n in attributes if n == root or root in up(n)}


def one_column_per_role(attributes: dict, rows: list[dict[str, str]], kind: str | None) -> None:
    """Drop from `attributes` (name -> AttributeSpec, in place) every column whose role a
    more useful column holds, its values kept as the kept column's synonyms."""
    by_role: dict[str, list[str]] = defaultdict(list)
    for name, spec in attributes.items():
        if spec.role and spec.kind == "categorical" and spec.values:
            by_role[spec.role].append(name)
    for role, names in by_role.items():
        if len(names) < 2:
            continue
        if kind in names:
            kept = kind
            keep = _family(attributes, kind)
        else:
            kept = _broadest_as_useful(attributes, rows, names, role)
            keep = {kept}
        for name in names:
            if name not in keep:
                _merge(attributes, name, rows, kept)
    _merge_subdivisions(attributes, rows)
    for spec in attributes.values():
        if spec.parent not in attributes:
            spec.parent = None


def _merge_subdivisions(attributes: dict, rows: list[dict[str, str]]) -> None:
    """A column of no role whose values each fall under one value of a role's column (H&M's
    index and section names under its department: 'Mens Underwear' is all Menswear) is that
    column's finer split, not a filter of its own: merged into it. Kinds keep their own."""
    for name in [n for n, a in attributes.items() if a.role is None and a.kind == "categorical"]:
        broader = [
            b
            for b, a in attributes.items()
            if a.role not in (None, "garment")
            and a.kind == "categorical"
            and len(a.values) < len(attributes[name].values)
            and determines(rows, name, b)
        ]
        if broader and len(rows) >= MIN_NESTING_ROWS:
            kept = max(broader, key=lambda b: len(attributes[b].values))
            _merge(attributes, name, rows, kept)


def _names_a_concept(value: str, role: str | None) -> bool:
    domain = lexicon.load().domains.get(role or "")
    return bool(domain and shopper_facing(value) and domain.concept_of(value))


def _merge(attributes: dict, merged: str, rows: list[dict[str, str]], kept: str) -> None:
    """Drop column `merged`, its values that name a concept of the role kept as synonyms of
    the `kept` column's values they always come with ('Dark Blue' rows are all Blue); a
    value that some attribute has as a value of its own is left ('Shoes', 'Accessories')."""
    del attributes[merged]
    spec = attributes[kept]
    spec.merged.append(merged)
    role = spec.role
    together: dict[str, Counter] = defaultdict(Counter)
    for (cell, kept_cell), n in Counter((r.get(merged, ""), r.get(kept, "")) for r in rows).items():
        for value in cell_values(cell):
            for kept_value in cell_values(kept_cell):
                together[value][kept_value] += n
    taken = {lexicon.key(v) for a in attributes.values() for v in a.values}
    for value, with_kept in together.items():
        if not with_kept or not _names_a_concept(value, role) or lexicon.key(value) in taken:
            continue
        top, count = with_kept.most_common(1)[0]
        if count >= SYNONYM_PURITY * sum(with_kept.values()):
            spec.synonyms.setdefault(top, [])
            if value not in spec.synonyms[top]:
                spec.synonyms[top].append(value)
