"""What a shopper sees an attribute called: its column's name in words ('baseColour' ->
'Base colour'), or, where the name says nothing ('attr_4'), the name of its role."""

from __future__ import annotations

import re

from retrieval.catalogues import lexicon


def column_label(column: str) -> str:
    """'baseColour' -> 'Base colour', 'article_type' -> 'Article type'."""
    spaced = "".join(f" {c.lower()}" if c.isupper() else c for c in column).replace("_", " ")
    words = spaced.split()
    return " ".join(words).capitalize() if words else column


# column names that say nothing to a shopper: attr_4, column 3, field12, col_a, c7
OPAQUE_NAME = re.compile(
    r"(?:attr(?:ibute)?|col(?:umn)?|field|var|prop(?:erty)?|feature)(?:[ _-][a-z0-9]{1,3}|\d{1,3})"
    r"|[a-z]\d{1,3}|\d+",
    re.IGNORECASE,
)


def label_opaque_columns(schema) -> None:
    """Of a CatalogueSchema (not imported: the schema module imports this one), an attribute
    whose column name says nothing ('attr_4') is labelled by its role: the kind 'Type', other
    kinds of item 'Category' (broadest first), 'Colour', 'Department', ... (the lexicon's
    labels); a label a schema file gave is kept."""
    used = {schema.label(a) for a in schema.attributes}
    garments = sorted(schema.by_role("garment"), key=schema.depth)
    for name, spec in schema.attributes.items():
        if not OPAQUE_NAME.fullmatch(name) or spec.label != column_label(name) or not spec.role:
            continue
        label = lexicon.load().domains[spec.role].label or column_label(spec.role)
        if spec.role == "garment" and name != schema.kind:
            label = "Category" if garments.index(name) == 0 else "Subcategory"
        numbered = label
        for n in range(2, len(schema.attributes) + 2):
            if numbered not in used:
                break
            numbered = f"{label} {n}"
        spec.label = numbered
        used.add(numbered)
