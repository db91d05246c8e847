"""Prices in a shopper's message: bounds ("under 30", "between 20 and 40", "over 100"), relative
bounds ("cheap", "pricey"), and orders ("cheapest first", "the most expensive").

The phrases are data (prices.json). `read_prices` returns what was said and the message with
those words taken out, so the attribute parser never reads "30" in "under 30" as a size and
the caption never searches "under 30" as text. Which column holds a catalogue's prices is
`price_attribute`: the attribute whose role is price, else a numeric one named like a price.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from retrieval.catalogues.schema import CatalogueSchema

PRICES_FILE = Path(__file__).parent / "prices.json"
Relative = Literal["cheap", "expensive"]
Order = Literal["ascending", "descending"]


@dataclass(frozen=True)
class PriceReading:
    """One thing said about price: bounds (inclusive, None: open), a relative bound, or an
    order; `words` as the shopper said them."""

    words: str
    low: float | None = None
    high: float | None = None
    relative: Relative | None = None
    order: Order | None = None

    @property
    def bounded(self) -> bool:
        return self.low is not None or self.high is not None


@lru_cache(maxsize=1)
def _data() -> dict:
    return json.loads(PRICES_FILE.read_text(encoding="utf-8"))


def _phrase(text: str) -> str:
    """A phrase as a regex: its words separated by spaces or punctuation."""
    words = text.split()
    body = r"[\s,;]+".join(re.escape(w) for w in words)
    head = r"(?<![\w$€£])" if words[0][0].isalnum() else ""
    tail = r"(?![\w])" if words[-1][-1].isalnum() else ""
    return f"{head}{body}{tail}"


def phrases_pattern(phrases: list[str]) -> str:
    """A regex matching any of the phrases, longest first."""
    return "(?:" + "|".join(_phrase(p) for p in sorted(phrases, key=len, reverse=True)) + ")"


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern]]:
    """(what it says, pattern) for every kind of price phrase."""
    d, any_of = _data(), phrases_pattern
    money = any_of(d["currencies"])
    number = r"(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:[.,]\d{1,2})?)"  # 1,299.50; 29,90
    amount = rf"(?:{money}\s?)?{number}(?:\s?{money})?(?![\w.])"
    paid = rf"(?:{money}\s?{number}|{number}\s?{money})(?![\w.])"  # with its currency
    joiner = any_of(d["range_joiners"])
    kinds = {
        # a bare range ("1-40") is a price only with a currency ("$20-$40")
        "range": rf"{any_of(d['range_before'])}\s+{amount}\s*{joiner}\s*{amount}"
        rf"|{paid}\s*{joiner}\s*{amount}|{amount}\s*{joiner}\s*{paid}",
        "upper": rf"{any_of(d['upper_before'])}\s*{amount}|{amount}\s*{any_of(d['upper_after'])}",
        "lower": rf"{any_of(d['lower_before'])}\s*{amount}|{amount}\s*{any_of(d['lower_after'])}",
        # "around 40"; an amount with its currency and no bound ("for $30") is about it
        "around": rf"{any_of(d['around_before'])}\s*{amount}|{paid}",
        "cheap": any_of(d["cheap"]),
        "expensive": any_of(d["expensive"]),
        "ascending": any_of(d["ascending"]),
        "descending": any_of(d["descending"]),
    }
    return [(kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in kinds.items()]


def _number(text: str) -> float:
    """'1,299.50' -> 1299.5 (thousands); '29,90' -> 29.9 (a decimal comma)."""
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", text):
        return float(text.replace(",", ""))
    return float(text.replace(",", "."))


def _reading(kind: str, match: re.Match) -> PriceReading:
    words = match.group(0).strip()
    numbers = [_number(g) for g in match.groups() if g]
    if kind == "range":
        low, high = sorted(numbers[:2])
        return PriceReading(words, low=low, high=high)
    if kind == "upper":
        return PriceReading(words, high=numbers[0])
    if kind == "lower":
        return PriceReading(words, low=numbers[0])
    if kind == "around":
        share = _data()["around_share"]
        return PriceReading(words, low=numbers[0] * (1 - share), high=numbers[0] * (1 + share))
    if kind in ("cheap", "expensive"):
        return PriceReading(words, relative=kind)
    return PriceReading(words, order=kind)


def _said_as_size(text: str, start: int) -> bool:
    """True when the words just before `start` say "size" ("size 30-32", "sizes 8 to 10")."""
    before = re.findall(r"[a-z]+", text[:start].lower())
    return bool(before) and before[-1] in _data()["size_words"]


def number_said_as_size(tokens: list[str], start: int) -> bool:
    """Whether the number at `tokens[start]` is said as a size: "size 30", "in a 30", "in 30";
    a bare number ("3 socks") never is."""
    before = tokens[max(0, start - 2) : start]
    return bool(before) and (
        before[-1] in _data()["size_words"] or before[-1] == "in" or before == ["in", "a"]
    )


def read_prices(text: str) -> tuple[list[PriceReading], str]:
    """What a message says about price, and the message without those words. Longest phrases
    first; an explicit bound makes a relative one ("cheap ... under 30") redundant."""
    found: list[tuple[int, int, PriceReading]] = []
    for kind, pattern in _patterns():
        for match in pattern.finditer(text):
            start, end = match.span()
            if kind in ("range", "upper", "lower", "around") and _said_as_size(text, start):
                continue
            found.append((start, end, _reading(kind, match)))
    chosen: list[tuple[int, int, PriceReading]] = []
    for start, end, reading in sorted(found, key=lambda f: (f[0] - f[1], f[0])):
        if all(end <= s or start >= e for s, e, _ in chosen):
            chosen.append((start, end, reading))
    chosen.sort(key=lambda f: f[0])
    rest = text
    for start, end, _ in reversed(chosen):
        rest = f"{rest[:start]} {rest[end:]}"
    readings = [r for _, _, r in chosen]
    if any(r.bounded for r in readings):
        readings = [r for r in readings if r.relative is None]
    return readings, " ".join(rest.split())


def amount_words(value: float) -> str:
    """30.0 -> '30', 99.99 -> '99.99'."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def range_words(low: float | None, high: float | None) -> str:
    """How a reply and the filter say a price range: 'under 30', 'over 100', '20 to 40'."""
    if low is not None and high is not None:
        return f"{amount_words(low)} to {amount_words(high)}"
    if high is not None:
        return f"under {amount_words(high)}"
    return f"over {amount_words(low)}" if low is not None else ""


def price_attribute(schema: CatalogueSchema) -> str | None:
    """The attribute holding prices: its role says price, else a numeric attribute named like a
    price ('price', 'Variant Price', 'sale_price'; not 'compare_at_price'), the shortest name
    first."""
    roles = [n for n, a in schema.attributes.items() if a.role == "price"]
    if roles:
        return roles[0]
    d = _data()
    named = [
        n
        for n, a in schema.attributes.items()
        if a.kind == "numeric"
        and any(w in n.lower() for w in d["price_columns"])
        and not any(w in n.lower() for w in d["price_columns_avoided"])
    ]
    return min(named, key=len) if named else None


_RANGE_WORDS = re.compile(r"^(?:under ([\d.]+)|over ([\d.]+)|([\d.]+) to ([\d.]+))$")


def bounds_from_words(words: str) -> tuple[float | None, float | None] | None:
    """`range_words` read back (a filter's choice): 'under 30' -> (None, 30.0); None when the
    words are no range."""
    match = _RANGE_WORDS.match(words.strip().lower())
    if not match:
        return None
    under, over, low, high = (float(g) if g else None for g in match.groups())
    return (over, under) if low is None else (low, high)


def said(reading: PriceReading) -> str:
    """How a reply and the filter name a reading: 'under 30', 'cheap', 'cheapest first'."""
    if reading.bounded:
        return range_words(reading.low, reading.high)
    return _data()["said"][reading.relative or reading.order]
