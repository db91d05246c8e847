"""Magento 2's catalog product import/export CSV: a row per product per store view (rows
with a store_view_code only translate the default row; an export of one store view alone is
read as it is); a configurable product names its
simple products in configurable_variations ('sku=MH01-XS-Black,color=Black,size=XS|sku=...');
attributes packed in additional_attributes ('color=Black,size=XS'); images relative to the
media folder ('/m/h/mh01-black_main.jpg')."""

from __future__ import annotations

from collections import Counter

from retrieval.catalogues.layouts import Columns, base_row, inherit
from retrieval.catalogues.layouts.rows import ProductRow, split_list, unpack_pairs
from retrieval.catalogues.metadata import Metadata


def products(table: Metadata, columns: Columns) -> tuple[list[ProductRow], list[str]]:
    store_view = columns.column("store_view")
    views = [r.get(store_view or "", "") for r in table.rows]
    shown = "" if "" in views or not views else Counter(views).most_common(1)[0][0]
    default = [(r, n) for r, n, v in zip(table.rows, table.lines, views) if v == shown]
    notes = []
    if len(default) < len(table.rows):
        notes.append(
            f"{len(table.rows) - len(default)} store-view rows (translations) read as their "
            "default rows"
        )
    by_sku, parent_of, order = {}, {}, []
    parent_types = set(columns.facts["parent_types"])
    for row, line in default:
        product = base_row(row, line, columns)
        product.attributes.update(unpack_pairs(columns.get(row, "packed_attributes")))
        by_sku[product.id] = product
        order.append((product, columns.get(row, "type").lower() in parent_types))
        for variation in split_list(columns.get(row, "children"), "|"):
            options = unpack_pairs(variation)
            child = options.pop("sku", "")
            if child:
                parent_of[child] = (product.id, options)
    with_children = set()
    for sku, (parent_sku, options) in parent_of.items():
        child, parent = by_sku.get(sku), by_sku.get(parent_sku)
        if child is None or parent is None:
            continue
        for key, value in options.items():
            child.attributes.setdefault(key, value)
        inherit(child, parent)
        with_children.add(parent_sku)
    out = [p for p, is_parent in order if not (is_parent and p.id in with_children)]
    return out, notes
