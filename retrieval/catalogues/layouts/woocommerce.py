"""WooCommerce's product CSV: a row per product; a variable product's variations are rows of
Type 'variation' whose Parent names it ('id:100' or its SKU); attributes in 'Attribute N
name' / 'Attribute N value(s)' pairs (a parent lists every value, a variation its own)."""

from __future__ import annotations

from retrieval.catalogues.layouts import Columns, base_row, inherit
from retrieval.catalogues.layouts.rows import ProductRow, split_list
from retrieval.catalogues.metadata import Metadata


def products(table: Metadata, columns: Columns) -> tuple[list[ProductRow], list[str]]:
    parent_types = set(columns.facts["parent_types"])
    read, kinds, parents = [], [], {}
    for row, line in zip(table.rows, table.lines):
        product = base_row(row, line, columns)
        sku = columns.get(row, "sku")
        product.id = product.id or sku
        kinds.append(set(t.lower() for t in split_list(columns.get(row, "type"), ",")))
        read.append((product, columns.get(row, "parent")))
        for key in (product.id, f"id:{product.id}", sku):
            if key:
                parents.setdefault(key, product)
    out, has_variations = [], set()
    for product, parent_ref in read:
        parent = parents.get(parent_ref) if parent_ref else None
        if parent is not None and parent is not product:
            inherit(product, parent)
            product.group = parent.id
            has_variations.add(parent.id)
    for (product, _), kind in zip(read, kinds):
        if not (kind & parent_types and product.id in has_variations):
            out.append(product)
    return out, []
