"""Shop platforms' product exports read as they are: which layout a metadata file is in
(`recognise`), and its rows read into normalised products (`read_products`).

What each platform's export holds (its columns, separators, parent/child rows) is data, in
`layouts.json`, from the platforms' documentation; one small module per platform reads the
rows the way that platform writes them. A file in no known layout is 'plain': its columns are
read as they are (`FolderCatalogue`'s own matching), as is the Kaggle styles.csv layout.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import import_module
from pathlib import Path

from retrieval.catalogues.layouts.rows import (
    MULTI_VALUE,
    ProductRow,
    category_levels,
    plain_text,
    price_text,
    read_price,
    split_list,
    tag_list,
)
from retrieval.catalogues.metadata import Metadata

FACTS = Path(__file__).parent / "layouts.json"
PLAIN = "plain"
PRICE_COLUMN = "price"  # the attribute an item's price is in (a number), whatever the layout
PRICED_SHARE = 0.8  # share of a price column's cells that must read as prices for it to be one
MAX_OPTIONS = 9  # 'Option{n} Name' columns looked for
CATEGORY_LEVEL = "\x00category:"  # a row's category levels, held apart until all are read
FLAG_VALUES = {"0", "1", "yes", "no", "true", "false", "y", "n"}
READERS = {  # layout -> the module that reads its rows
    "magento": "magento",
    "shopify": "shopify",
    "woocommerce": "woocommerce",
    "merchant": "merchant",
    "hm": "hm",
}


@dataclass(frozen=True)
class Layout:
    """A platform's export layout: its name, what to call it, and its column facts."""

    name: str
    label: str
    facts: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def passthrough(self) -> bool:
        """True when the file's columns are read as they are (plain CSV/JSONL, styles.csv)."""
        return bool(self.facts.get("passthrough"))


@dataclass
class Products:
    """An export's products, read: the rows, the currency of their prices, notes."""

    layout: Layout
    rows: list[ProductRow]
    currency: str = ""
    notes: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def layouts() -> dict[str, Layout]:
    """The known layouts, the most specific first, from `layouts.json`."""
    data = json.loads(FACTS.read_text(encoding="utf-8"))
    return {
        name: Layout(name, facts["label"], facts)
        for name, facts in data.items()
        if not name.startswith("_")
    }


def recognise(columns: list[str]) -> Layout:
    """The first layout whose required columns the file has ('plain' requires none)."""
    for layout in layouts().values():
        lookup = Columns(columns, layout.facts)
        if all(lookup.name_of(spec) for spec in layout.facts["requires"]):
            return layout
    raise AssertionError("layouts.json ends with the 'plain' layout, which fits any file")


def image_column(columns: list[str]) -> str | None:
    """A plain file's column of image paths or URLs under another name than a file
    column's ('image_url', 'image_link', 'photo'), or None."""
    lookup = Columns(columns, layouts()[PLAIN].facts)
    return next(filter(None, map(lookup.name_of, lookup.facts["image_columns"])), None)


class Columns:
    """A file's columns looked up by a layout's facts (case-insensitive; 'a|b' alternatives)."""

    def __init__(self, columns: list[str], facts: dict):
        self.lower = {c.strip().lower(): c for c in columns}
        self.facts = facts

    def name_of(self, spec: str | None) -> str | None:
        """The file's column for one spec ('variant sku|sku'), or None."""
        for alternative in (spec or "").split("|"):
            if alternative and alternative.lower() in self.lower:
                return self.lower[alternative.lower()]
        return None

    def column(self, key: str) -> str | None:
        """The file's column for a fact ('title', 'price'), or None."""
        return self.name_of(self.facts.get(key))

    def get(self, row: dict[str, str], key: str) -> str:
        column = self.column(key)
        return row.get(column, "") if column else ""

    @cached_property
    def options(self) -> list[tuple[str, str]]:
        """(name column, value column) of each option pair the file has."""
        pairs = []
        for name_spec, value_spec in self.facts.get("options", []):
            for n in range(1, MAX_OPTIONS + 1):
                name = self.name_of(name_spec.format(n=n))
                value = self.name_of(value_spec.format(n=n))
                if name and value:
                    pairs.append((name, value))
        return pairs

    @cached_property
    def offered(self) -> dict[str, str]:
        """File column -> attribute name, of the columns offered as attributes."""
        named = {self.name_of(c): a for c, a in self.facts.get("attributes", {}).items()}
        return {c: a for c, a in named.items() if c}


def base_row(row: dict[str, str], line: int, columns: Columns) -> ProductRow:
    """The fields every layout reads alike: id, title, description, price, images, category
    path, offered attributes and option pairs."""
    facts = columns.facts
    price, currency = _price(row, columns)
    out = ProductRow(
        id=columns.get(row, "id"),
        images=_images(row, columns),
        title=plain_text(columns.get(row, "title")),
        description=plain_text(columns.get(row, "description"))
        or plain_text(columns.get(row, "short_description")),
        tags=tag_list(columns.get(row, "tags")),
        price=price,
        currency=currency,
        group=columns.get(row, "group"),
        attributes=_attributes(row, columns),
        line=line,
    )
    levels = category_levels(
        columns.get(row, "categories"),
        facts.get("category_list_separator"),
        facts.get("category_separator", ">"),
    )
    out.attributes.update({f"{CATEGORY_LEVEL}{i:02d}": level for i, level in enumerate(levels)})
    return out


def _price(row: dict[str, str], columns: Columns) -> tuple[float | None, str]:
    """(price, currency): the sale price where one is given and lower than the regular one."""
    price, currency = read_price(columns.get(row, "price"))
    sale, sale_currency = read_price(columns.get(row, "sale_price"))
    if sale is not None and (price is None or sale < price):
        return sale, sale_currency or currency
    return price, currency


def _images(row: dict[str, str], columns: Columns) -> list[str]:
    """The row's image references, the main one first, each once."""
    facts, images = columns.facts, []
    for spec in facts.get("images", []):
        cell = row.get(columns.name_of(spec) or "", "")
        separator = facts.get("image_separator")
        images += split_list(cell, separator) if separator else [cell]
    none = {v.lower() for v in facts.get("no_image", [])}
    return [i for i in dict.fromkeys(images) if i and i.lower() not in none]


def _attributes(row: dict[str, str], columns: Columns) -> dict[str, str]:
    """The offered columns' values (a taxonomy path as its leaf) and the option pairs' values
    named by their option ('Color' -> color); an option cell listing several values
    multi-valued."""
    facts, offered = columns.facts, columns.offered
    attributes = {name: row[c] for c, name in offered.items() if row.get(c)}
    for spec, separator in facts.get("path_attributes", {}).items():
        name = offered.get(columns.name_of(spec) or "")
        if name in attributes:
            leaf = split_list(attributes.pop(name), separator)[-1:]
            attributes.update({name: leaf[0]} if leaf and not leaf[0].isdigit() else {})
    separator = facts.get("option_value_separator")
    for name_column, value_column in columns.options:
        name, value = row.get(name_column, ""), row.get(value_column, "")
        if name and value and name.lower() not in facts.get("no_option", []):
            values = split_list(value, separator) if separator else [value]
            attributes[name.strip().lower()] = MULTI_VALUE.join(values)
    return attributes


def read_products(table: Metadata, layout: Layout) -> Products:
    """The products of a metadata table in a platform's layout, normalised."""
    reader = import_module(f"retrieval.catalogues.layouts.{READERS[layout.name]}")
    columns = Columns(table.columns, layout.facts)
    rows, notes = reader.products(table, columns)
    _name_categories(rows)
    _drop_flags(rows)
    currencies = Counter(r.currency for r in rows if r.currency)
    for row in rows:
        if row.price is not None:
            row.attributes[PRICE_COLUMN] = price_text(row.price)
    currency = currencies.most_common(1)[0][0] if currencies else ""
    return Products(layout, rows, currency, notes)


def clean_prices(table: Metadata) -> str:
    """A plain file's `price` column as numbers ('$15.00' -> '15'), where most cells it fills
    read as one (PRICED_SHARE); a cell that does not ('abc') is emptied and reported; returns
    the prices' currency ('' when none is written)."""
    column = next((c for c in table.columns if c.strip().lower() == PRICE_COLUMN), None)
    cells = [row[column] for row in table.rows if row.get(column)] if column else []
    read = [read_price(cell) for cell in cells]
    if not read or sum(number is not None for number, _ in read) < PRICED_SHARE * len(read):
        return ""
    for row, line in zip(table.rows, table.lines):
        if row.get(column) and not _is_number(row[column]):  # numbers kept as written
            number = read_price(row[column])[0]
            if number is None:
                table.problems.add(
                    "prices not read (left empty)", f"line {line}", repr(row[column])
                )
            row[column] = price_text(number) if number is not None else ""
    currencies = Counter(code for _, code in read if code)
    return currencies.most_common(1)[0][0] if currencies else ""


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _name_categories(rows: list[ProductRow]) -> None:
    """Category levels as attributes: the leaf as 'category', the levels above it as
    'category_1' (the broadest), 'category_2', ...; levels every product shares at the top
    ('Default Category') left out."""
    paths = [
        [v for k, v in sorted(r.attributes.items()) if k.startswith(CATEGORY_LEVEL)] for r in rows
    ]
    for row in rows:
        for key in [k for k in row.attributes if k.startswith(CATEGORY_LEVEL)]:
            del row.attributes[key]
    given = [p for p in paths if p]
    shared = 0
    while given and all(len(p) > shared + 1 and p[shared] == given[0][shared] for p in given):
        shared += 1
    for row, path in zip(rows, paths):
        path = path[shared:]
        if path:
            row.attributes["category"] = path[-1]
            row.attributes.update({f"category_{i}": v for i, v in enumerate(path[:-1], 1)})


def _drop_flags(rows: list[ProductRow]) -> None:
    """Attributes that are yes/no flags or URLs are not offered to shoppers."""
    values: dict[str, set[str]] = {}
    for row in rows:
        for key, value in row.attributes.items():
            values.setdefault(key, set()).add(value.lower())
    unoffered = {
        key
        for key, seen in values.items()
        if seen <= FLAG_VALUES or any(v.startswith(("http://", "https://")) for v in seen)
    }
    for row in rows:
        for key in unoffered & set(row.attributes):
            del row.attributes[key]


def inherit(child: ProductRow, parent: ProductRow) -> None:
    """A variant row completed from its product's row: the product's title and description,
    its attributes where the variant has none of its own, its images after the variant's
    own, its price where the variant has none."""
    child.title = parent.title or child.title
    child.description = child.description or parent.description
    child.tags = child.tags or parent.tags
    if child.price is None:
        child.price, child.currency = parent.price, parent.currency
    child.images = list(dict.fromkeys([*child.images, *parent.images]))
    has_path = any(k.startswith(CATEGORY_LEVEL) for k in child.attributes)
    for key, value in parent.attributes.items():
        if key.startswith(CATEGORY_LEVEL) and has_path:
            continue  # the variant's own category path, whole
        if MULTI_VALUE not in value:  # the product's option lists are not the variant's
            child.attributes.setdefault(key, value)
    child.group = child.group or parent.id
