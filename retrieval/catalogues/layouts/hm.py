"""H&M's articles.csv: a row per article (a product in one colour), its product in
product_code, its photo at images/<first 3 digits>/<10-digit zero-padded article_id>.jpg."""

from __future__ import annotations

from retrieval.catalogues.layouts import Columns, base_row
from retrieval.catalogues.layouts.rows import ProductRow
from retrieval.catalogues.metadata import Metadata


def products(table: Metadata, columns: Columns) -> tuple[list[ProductRow], list[str]]:
    digits, folder = columns.facts["id_digits"], columns.facts["image_folder_digits"]
    out = []
    for row, line in zip(table.rows, table.lines):
        product = base_row(row, line, columns)
        if product.id.isdigit():
            product.id = product.id.zfill(digits)
        product.images = [f"images/{product.id[:folder]}/{product.id}.jpg"]
        out.append(product)
    return out, []
