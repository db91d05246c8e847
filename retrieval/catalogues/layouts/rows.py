"""The normalised product row every layout reads its export into, and the cell readers the
layouts share: prices, HTML, category paths, packed `k=v` cells, image references."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import unquote, urlparse

PRICE = re.compile(r"(?P<number>\d[\d\s.,']*)")
CURRENCY = re.compile(r"\b(?P<code>[A-Z]{3})\b|(?P<symbol>[$€£¥₹])")
SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
MULTI_VALUE = "|"  # how the values of a multi-valued attribute are joined in one cell


@dataclass
class ProductRow:
    """One sellable row of an export, read the same whatever the platform.

    Attributes:
        id: the row's own id (SKU, article id, feed id).
        images: references to its photos (paths, URLs, file names), the main one first.
        group: the product it is a variant of (its parent's id), '' for a lone product.
        attributes: shopper-facing values (option names become attribute names).
        line: the file line it came from (for reports).
    """

    id: str
    images: list[str] = field(default_factory=list)
    title: str = ""
    description: str = ""
    tags: str = ""  # the shop's own keywords for the product, ', '-joined
    price: float | None = None
    currency: str = ""
    group: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    line: int = 0


def tag_list(cell: str) -> str:
    """A tags cell ('linen,  V-neck,,summer') as the shop's keywords, ', '-joined."""
    return ", ".join(split_list(plain_text(cell), ","))


class _Text(HTMLParser):
    BLOCKS = {"p", "br", "li", "div", "tr", "h1", "h2", "h3", "h4", "ul", "ol", "table"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data):
        self.parts.append(data)


def plain_text(cell: str) -> str:
    """A description without its HTML: tags dropped, entities decoded, spaces collapsed."""
    if "<" not in cell and "&" not in cell:
        return " ".join(cell.split())
    reader = _Text()
    reader.feed(cell)
    reader.close()
    return " ".join(html.unescape("".join(reader.parts)).split())


def read_price(cell: str) -> tuple[float | None, str]:
    """(number, currency code) of a price cell: '15.00 USD', '$1,299.99', '12,50 €', '15';
    (None, '') when it holds no number."""
    match = PRICE.search(cell or "")
    if not match:
        return None, ""
    number = match.group("number").strip().replace(" ", "").replace("'", "")
    if "," in number and "." in number:  # the later one is the decimal mark
        decimal = "," if number.rfind(",") > number.rfind(".") else "."
        number = number.replace("." if decimal == "," else ",", "").replace(",", ".")
    elif "," in number:  # '12,50' is a decimal comma; '1,299' a thousands one
        head, _, tail = number.rpartition(",")
        number = f"{head.replace(',', '')}.{tail}" if len(tail) != 3 else number.replace(",", "")
    try:
        value = float(number.rstrip("."))
    except ValueError:
        return None, ""
    found = CURRENCY.search(cell.replace(match.group("number"), " "))
    code = ""
    if found:
        code = found.group("code") or SYMBOLS[found.group("symbol")]
    return value, code


def price_text(value: float) -> str:
    """A price as its attribute cell holds it: '15', '15.5', '1299.99'."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def split_list(cell: str, separator: str) -> list[str]:
    """The non-empty, stripped parts of a list cell."""
    return [part.strip() for part in (cell or "").split(separator) if part.strip()]


def category_levels(cell: str, list_separator: str | None, separator: str) -> list[str]:
    """The levels of a product's most specific category path ('Default Category/Women/Tops'
    -> ['Default Category', 'Women', 'Tops']); of several paths in one cell, the longest."""
    paths = split_list(cell, list_separator) if list_separator else [cell]
    levels = [split_list(path, separator) for path in paths if path]
    return max(levels, key=len) if levels else []


def unpack_pairs(cell: str, pair_separator: str = ",", separator: str = "=") -> dict[str, str]:
    """A packed attribute cell read as a dict: 'color=Black,size=XS' -> {color: Black, size: XS};
    a part without '=' continues the previous value ('features=Pocket, 15 inches')."""
    out: dict[str, str] = {}
    last = None
    for part in (cell or "").split(pair_separator):
        key, sep, value = part.partition(separator)
        if sep and key.strip():
            last = key.strip()
            out[last] = value.strip()
        elif last is not None and part.strip():
            out[last] = f"{out[last]}{pair_separator}{part}".strip()
    return {k: v for k, v in out.items() if v}


def reference_path(reference: str) -> str:
    """The path part of an image reference: a URL's path without its query, unquoted; a path
    without its leading slashes ('/m/h/x.jpg' -> 'm/h/x.jpg')."""
    text = reference.strip()
    if "://" in text or text.startswith("//"):
        text = urlparse(text if "://" in text else f"http:{text}").path
    return unquote(text).replace("\\", "/").lstrip("/")
