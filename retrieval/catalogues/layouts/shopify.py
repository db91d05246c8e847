"""Shopify's product CSV: one product per Handle; its first row holds the product (Title,
Body (HTML), Vendor, Type, Product Category), every row may add a variant (Option values,
Variant SKU, Variant Price, Variant Image) or only an image (Image Src, Image Position)."""

from __future__ import annotations

from retrieval.catalogues.layouts import Columns, base_row, inherit
from retrieval.catalogues.layouts.rows import ProductRow
from retrieval.catalogues.metadata import Metadata


def products(table: Metadata, columns: Columns) -> tuple[list[ProductRow], list[str]]:
    handles: dict[str, list[tuple[dict[str, str], int]]] = {}
    for row, line in zip(table.rows, table.lines):
        handle = columns.get(row, "group")
        if handle:
            handles.setdefault(handle, []).append((row, line))
    out = []
    for handle, rows in handles.items():
        out += _variants(handle, rows, columns)
    return out, []


def _variants(handle: str, rows, columns: Columns) -> list[ProductRow]:
    """The variants of one Handle's rows, each completed from the product's first row."""
    product = base_row(*rows[0], columns)
    product.id = handle
    product.images = _product_images(rows, columns)
    variant_images = columns.name_of(columns.facts["images"][0])
    variants = []
    names = [name for name, _ in columns.options]
    for number, (row, line) in enumerate(rows, 1):
        if not _is_variant(row, columns):
            continue
        # a variant row leaves the option names to the product's first row
        row = {**row, **{n: rows[0][0][n] for n in names if not row.get(n)}}
        variant = base_row(row, line, columns)
        variant.images = [row[variant_images]] if row.get(variant_images or "") else []
        variant.id = variant.id or f"{handle}-{number}"
        variant.group = handle
        inherit(variant, product)
        variants.append(variant)
    return variants or [product]


def _product_images(rows, columns: Columns) -> list[str]:
    """The product's images (Image Src of any of its rows) in their Image Position order."""
    source = columns.name_of(columns.facts["images"][1])
    position = columns.column("image_position")
    found = []
    for order, (row, _) in enumerate(rows):
        if row.get(source or ""):
            try:
                rank = float(row.get(position or "", "") or order + 1)
            except ValueError:
                rank = order + 1
            found.append((rank, order, row[source]))
    return list(dict.fromkeys(src for _, _, src in sorted(found)))


def _is_variant(row: dict[str, str], columns: Columns) -> bool:
    """A row that sells something (an option value, a SKU or a price), not only an image."""
    options = any(row.get(value) for _, value in columns.options)
    return options or bool(columns.get(row, "id") or columns.get(row, "price"))
