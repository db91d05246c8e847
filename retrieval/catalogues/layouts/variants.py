"""Variants that share a photo become one item: the rows of one product (one group) shown by
the same photo (its sizes) collapse into one colourway, whose attributes that differ between
them (size) become multi-valued; the photo, not a colour column, says what is one colourway,
so this holds whatever the platform calls its options."""

from __future__ import annotations

from dataclasses import dataclass

from retrieval.catalogues.layouts.rows import MULTI_VALUE, ProductRow, price_text


@dataclass
class Colourway:
    """One item: the product row it shows (merged from its variants), its photo, how many
    variant rows it stands for."""

    row: ProductRow
    photo: str
    variants: int = 1


def collapse(matched: list[tuple[ProductRow, str]]) -> list[Colourway]:
    """One colourway per (product group, photo), in the order of their first row; the price
    is the lowest of its variants'."""
    ways: dict[tuple[str, str], list[ProductRow]] = {}
    for row, photo in matched:
        ways.setdefault((row.group or row.id, photo), []).append(row)
    return [Colourway(_merge(rows), photo, len(rows)) for (_, photo), rows in ways.items()]


def _merge(rows: list[ProductRow]) -> ProductRow:
    first = rows[0]
    if len(rows) == 1:
        return first
    attributes: dict[str, list[str]] = {}
    for row in rows:
        for key, value in row.attributes.items():
            for part in value.split(MULTI_VALUE):
                if part not in attributes.setdefault(key, []):
                    attributes[key].append(part)
    prices = [r.price for r in rows if r.price is not None]
    merged = ProductRow(
        id=first.id,
        images=first.images,
        title=first.title,
        description=first.description,
        tags=first.tags,
        price=min(prices) if prices else None,
        currency=first.currency,
        group=first.group or first.id,
        attributes={k: MULTI_VALUE.join(v) for k, v in attributes.items()},
        line=first.line,
    )
    if "price" in first.attributes and merged.price is not None:
        merged.attributes["price"] = price_text(merged.price)
    return merged
