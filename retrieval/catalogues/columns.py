"""What a metadata column holds, read from its values (and its name where values cannot
tell): several values in one cell, codes, constants, links, markup, paths, `k=v` lists,
long text and prices. `retrieval/catalogues/schema.py` keeps as attributes only the columns
that hold short, shopper-facing values; `shopper_facing` is the one test of a single value
that chips and filters show.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from retrieval.catalogues import lexicon

COLUMNS_FILE = Path(__file__).parent / "data" / "columns.json"
MAX_VALUE_CHARS = 40  # a longer value is text, not something a shopper picks from a row
MIN_ROWS = 10  # fewer rows than this cannot show that a column is constant or a code
CODE_SHARE = 0.5  # integer columns with this share of distinct values (or more) are codes
CODE_DISTINCT = 50  # ... or with more distinct integers than this
CODE_DIGITS = 6  # ... or integers this long: article numbers, not quantities
MULTI_SHARE = 0.2  # share of cells listing several values that makes a column multi-valued
SHAPE_SHARE = 0.5  # a column is links, markup, paths or k=v lists when this share of it is
PRICE_DECIMALS = 0.8  # share of values with two decimals that makes a number a price
KV_SAMPLE = 2000  # rows that show whether a column holds k=v lists
MAX_CATEGORICAL_VALUES = 250  # more distinct values than this is free text, not an attribute
NESTING_PURITY = 0.97  # share of rows whose narrow value determines the broad one
MIN_NESTING_ROWS = 20  # fewer rows cannot show that one column nests under another

SEPARATORS = re.compile(r"\s*(?:\||;|\r?\n)\s*")
URL = re.compile(r"^(?:https?://|ftp://|www\.)\S+$", re.I)
HTML = re.compile(r"<\s*/?\s*[a-z][a-z0-9]*(?:\s[^>]*)?/?>|&(?:nbsp|amp|lt|gt|quot);", re.I)
FILE_PATH = re.compile(r"^/|\.(?:jpe?g|png|gif|webp|tiff?|bmp|avif|heic|html?|php|pdf)$", re.I)
BREADCRUMB = re.compile(r"\S\s+(?:>|»|›)\s+\S")  # 'Apparel > Clothing > Shirts'
KEY_VALUE = re.compile(r"^[\w .-]+=[^=,]*(?:,[\w .-]+=[^=,]*)+$")
PRICE = re.compile(
    r"^\s*(?:[$€£¥₹]|[A-Z]{3})?\s*(\d{1,3}(?:[,\s]\d{3})*(?:\.\d+)?|\d+(?:[.,]\d+)?)"
    r"\s*(?:[$€£¥₹]|[A-Z]{3})?\s*$"
)
_NAME_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


@lru_cache(maxsize=1)
def _code_words() -> frozenset[str]:
    return frozenset(json.loads(COLUMNS_FILE.read_text(encoding="utf-8"))["code_words"])


def cell_values(cell: str) -> list[str]:
    """The values of one cell: 'Red|Blue', 'Red; Blue' and lines each hold several."""
    if not cell:
        return []
    return [v for v in SEPARATORS.split(cell.strip()) if v]


def has_value(cell: str | None, value: str) -> bool:
    """True when a cell holds `value`, alone or among several ('Red|Blue' holds 'Blue')."""
    return bool(cell) and (cell == value or value in cell_values(cell))


def split_counts(cells: Counter) -> Counter:
    """{value: items} from {cell: items}: each value of a several-valued cell counted."""
    out: Counter = Counter()
    for cell, n in cells.items():
        for value in cell_values(cell):
            out[value] += n
    return out


def is_multi_valued(cells: list[str]) -> bool:
    """True when a column's cells list several values (a separator in MULTI_SHARE of them
    or more)."""
    counts = Counter(cells)
    split = sum(n for cell, n in counts.items() if len(cell_values(cell)) > 1)
    return split > 0 and split >= MULTI_SHARE * len(cells)


def value_shape(value: str) -> str | None:
    """Why a value is no shopper-facing value ('link', 'markup', 'path', 'k=v list', 'long
    text'), else None."""
    if URL.match(value):
        return "link"
    if HTML.search(value):
        return "markup"
    if KEY_VALUE.match(value):
        return "k=v list"
    if FILE_PATH.search(value) or value.count("/") >= 2 or BREADCRUMB.search(value):
        return "path"
    if len(value) > MAX_VALUE_CHARS:
        return "long text"
    return None


def shopper_facing(value: str) -> bool:
    """A value worth a chip or a filter entry: short, no link, markup, path or k=v list, and
    not a placeholder ('Other', 'Unknown')."""
    return bool(value.strip()) and value_shape(value) is None and not lexicon.is_placeholder(value)


def column_shape(cells: list[str]) -> str | None:
    """Why a column's cells are no attribute's values (their commonest shape, when it holds
    SHAPE_SHARE of them), else None."""
    shapes: Counter = Counter()
    for cell, n in Counter(cells).items():
        shapes[value_shape(cell)] += n
    commonest, n = shapes.most_common(1)[0] if shapes else (None, 0)
    return commonest if commonest and n >= SHAPE_SHARE * len(cells) else None


def name_says_code(column: str) -> bool:
    """'product_code', 'department_no', 'articleId': the name's last word is a code word."""
    words = [w.lower() for w in _NAME_WORDS.findall(column)]
    return bool(words) and words[-1] in _code_words()


def numeric_kind(column: str, cells: list[str], rows: int) -> str:
    """'price', 'code' or 'number' for a column of numbers."""
    if lexicon.hinted_role(column) == "price":
        return "price"
    if name_says_code(column):
        return "code"
    counts = Counter(c.strip() for c in cells)
    integers = all(re.fullmatch(r"-?\d+", c) for c in counts)
    many = rows >= MIN_ROWS and (len(counts) > CODE_DISTINCT or len(counts) >= CODE_SHARE * rows)
    if integers and (many or min(len(c) for c in counts) >= CODE_DIGITS):
        return "code"
    decimals = sum(n for c, n in counts.items() if re.fullmatch(r"\d+\.\d\d", c))
    return "price" if decimals >= PRICE_DECIMALS * len(cells) else "number"


def parse_price(text: str) -> float | None:
    """'29.99', '$29.99', '15.00 USD', '1,299.00' -> the number; None when it is no price."""
    found = PRICE.match(text or "")
    if not found:
        return None
    number = found.group(1).replace(" ", "")
    if "," in number and "." not in number and len(number.rsplit(",", 1)[1]) != 3:
        number = number.replace(",", ".")  # '29,99': a decimal comma
    try:
        return float(number.replace(",", ""))
    except ValueError:
        return None


def key_values(cell: str) -> dict[str, str]:
    """'color=Black,size=XS' -> {'color': 'Black', 'size': 'XS'}; {} for any other cell."""
    if not KEY_VALUE.match(cell or ""):
        return {}
    pairs = (part.split("=", 1) for part in cell.split(","))
    return {k.strip(): v.strip() for k, v in pairs if k.strip() and v.strip()}


def expand_key_values(columns: list[str], rows: list[dict[str, str]]) -> list[str]:
    """The columns with each key of a k=v list column as a column of its own ('color' and
    'size' of Magento's `additional_attributes`), written into the rows (the same dicts, so
    items built from them carry the values); a key that is already a column is prefixed."""
    out = list(columns)
    for column in columns:
        sample = [r[column] for r in rows[:KV_SAMPLE] if r.get(column)]  # k=v in most cells
        if not any("=" in c for c in sample) or column_shape(sample) != "k=v list":
            continue
        for row in rows:
            for k, v in key_values(row.get(column, "")).items():
                name = k if k not in columns else f"{column}.{k}"
                row.setdefault(name, v)
                if name not in out:
                    out.append(name)
    return out


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def column_kind(column: str, values: list[str], rows: int) -> str:
    """'numeric', 'categorical', 'text' (a title candidate) or 'other' (no attribute: a code,
    a constant, links, markup, paths, k=v lists) for a column; see the module docstring."""
    if not values:
        return "other"
    cells = set(values)
    constant = len(cells) == 1 and rows >= MIN_ROWS
    if all(is_number(v) for v in cells) or priced(column, cells):
        coded = constant or numeric_kind(column, values, rows) == "code"
        return "other" if coded else "numeric"
    shape = column_shape(values)
    if shape:
        return "text" if shape == "long text" and not is_multi_valued(values) else "other"
    counts = Counter(values)
    if is_multi_valued(values):
        counts = split_counts(counts)
    total, distinct = sum(counts.values()), len(counts)
    if distinct == 1 and rows >= MIN_ROWS:
        return "other"
    words = sum(len(v.split()) * n for v, n in counts.items()) / total
    if distinct >= 0.5 * total and words >= 2:
        return "text"
    if distinct <= MAX_CATEGORICAL_VALUES and distinct <= max(2, 0.5 * total):
        role = lexicon.infer_role("", sorted(counts))
        coded = name_says_code(column) or all(len(v) <= 2 for v in counts)
        return "other" if coded and not role else "categorical"
    return "other"


def codes_of_named_columns(kinds: dict[str, str], rows: list[dict[str, str]]) -> list[str]:
    """Integer columns that are another column's codes (`product_type_no` beside
    `product_type_name`): each of their values goes with one of its values and back."""
    if len(rows) < MIN_ROWS:
        return []
    distinct = {c: len({r.get(c) for r in rows}) for c, k in kinds.items() if k != "other"}
    named = [c for c, k in kinds.items() if k in ("categorical", "text")]
    return [
        c
        for c, k in kinds.items()
        if k == "numeric"
        and numeric_kind(c, [r[c] for r in rows if r.get(c)], len(rows)) == "number"
        and any(
            abs(distinct[n] - distinct[c]) <= 1 + (1 - NESTING_PURITY) * distinct[c]
            and determines(rows, c, n)
            and determines(rows, n, c)
            for n in named
        )
    ]


def priced(column: str, values) -> bool:
    """Prices written with a currency ('15.00 USD', '$29.99') in a column named as prices."""
    return lexicon.hinted_role(column) == "price" and all(
        parse_price(v) is not None for v in values
    )


def determines(
    rows: list[dict[str, str]], narrow: str, broad: str, purity: float = NESTING_PURITY
) -> bool:
    """True when a `narrow` value tells the `broad` one (`purity` of the rows)."""
    pairs = Counter((r[narrow], r[broad]) for r in rows if r.get(narrow) and r.get(broad))
    if not pairs:
        return False
    best: dict[str, int] = {}
    for (value, _), count in pairs.items():
        best[value] = max(best.get(value, 0), count)
    return sum(best.values()) >= purity * sum(pairs.values())
