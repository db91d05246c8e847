"""Google Merchant Center product feeds: a row per item (a product in one colour and size),
variants of one product sharing an item_group_id; as a TSV file (read as any CSV) or as RSS
2.0 / Atom XML with the attributes in the g: namespace (read by `metadata.read_metadata`)."""

from __future__ import annotations

from retrieval.catalogues.layouts import Columns, base_row
from retrieval.catalogues.layouts.rows import ProductRow
from retrieval.catalogues.metadata import Metadata


def products(table: Metadata, columns: Columns) -> tuple[list[ProductRow], list[str]]:
    return [base_row(row, line, columns) for row, line in zip(table.rows, table.lines)], []
