"""Shops simulated from a real one, to choose a training recipe on more than one shop.

A simulated shop is a subset of a catalogue's products with kinds of its own (a seeded half of
the source's kinds, or all), its columns renamed the way other shops name them
(`phrasebooks/shop_columns.json`, opaque names included, so roles must come from the values),
and its values reworded by the lexicon's other words for the same concept ("Tshirts" ->
"Tee"). It is written as a folder a user could have exported: `products.csv` and `images/`
(links to the source photos, named by the new ids).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from retrieval.catalogues.base import Catalogue, Item
from retrieval.catalogues.lexicon import key, load
from retrieval.catalogues.schema import CatalogueSchema

COLUMNS_FILE = Path(__file__).parent / "phrasebooks" / "shop_columns.json"
KIND_PARTS = ("all", "first", "second")  # which seeded half of the source's kinds it sells


@dataclass(frozen=True)
class ShopPlan:
    products: int = 2000
    kinds: str = "second"  # one of KIND_PARTS
    reword_share: float = 1.0  # of the values the lexicon has another word for
    seed: int = 1


@lru_cache(maxsize=1)
def _column_phrasebook() -> dict:
    return json.loads(COLUMNS_FILE.read_text(encoding="utf-8"))


def _choice(options: Sequence[str], seed: int, salt: str) -> str:
    """A stable seeded pick by a salt (a column's name, 'case'): the same in every call."""
    digest = int.from_bytes(key(salt).encode()[:8].ljust(8, b"\0"), "little")
    return options[(digest + seed * 7919) % len(options)]


def column_names(schema: CatalogueSchema, seed: int) -> dict[str, str]:
    """Source column -> its name in the simulated shop (attributes by their role)."""
    names = _column_phrasebook()
    out, used = {}, set()
    for number, attribute in enumerate(schema.attributes, 1):
        options = names.get(schema.role(attribute) or "", names["default"])
        picked = _choice(options, seed, attribute)
        if picked == "opaque" or picked in used:
            picked = names["opaque"].format(n=number)
        out[attribute] = picked
        used.add(picked)
    return out


CASES = {"title": str.title, "lower": str.lower, "upper": str.upper, "as written": str}


def value_words(schema: CatalogueSchema, attribute: str, plan: ShopPlan) -> dict[str, str]:
    """Value -> how the simulated shop writes it: by the lexicon's name of its concept
    ("Tshirts" -> "T-Shirt", "Sweaters" -> "Sweater"), for `reword_share` of the values
    that have one, never two values as one; every value in the shop's own letter case."""
    domain = load().domains.get(schema.role(attribute) or "")
    rng = np.random.default_rng(plan.seed)
    case = CASES[_choice(list(CASES), plan.seed, "case")]
    out: dict[str, str] = {}
    values = schema.attributes[attribute].values
    taken = {key(v): v for v in values}
    for value in values:
        name = domain.concept_of(value) if domain else None
        free = name and taken.get(key(name), value) == value  # no other value is said so
        if free and rng.random() < plan.reword_share:
            taken[key(name)] = value
            out[value] = case(name.title())
        else:
            out[value] = case(value)
    return out


def pick_products(catalogue: Catalogue, plan: ShopPlan) -> list[Item]:
    """`plan.products` items (seeded) of the kinds in the plan's part of the source's kinds."""
    if plan.kinds not in KIND_PARTS:
        raise ValueError(f"kinds must be one of {', '.join(KIND_PARTS)}, not {plan.kinds!r}")
    rng = np.random.default_rng(plan.seed)
    kind = catalogue.schema.kind
    items = [i for i in catalogue.items if i.source]
    if kind and plan.kinds != "all":
        kinds = sorted({i.attributes.get(kind, "") for i in items} - {""})
        order = [kinds[k] for k in rng.permutation(len(kinds))]
        half = set(order[: len(order) // 2] if plan.kinds == "first" else order[len(order) // 2 :])
        items = [i for i in items if i.attributes.get(kind) in half]
    chosen = rng.permutation(len(items))[: plan.products]
    return [items[k] for k in sorted(chosen)]


def make_shop(catalogue: Catalogue, out: Path, plan: ShopPlan = ShopPlan()) -> Path:
    """Write the simulated shop into `out` (products.csv, images/); returns the CSV's path."""
    schema = catalogue.schema
    items = pick_products(catalogue, plan)
    if not items:
        raise ValueError(f"{catalogue.name} has no products with photos of those kinds")
    names = column_names(schema, plan.seed)
    words = {a: value_words(schema, a, plan) for a in schema.categorical}
    header_names = _column_phrasebook()
    id_name = _choice(header_names["id"], plan.seed, "id")
    title_name = _choice(header_names["title"], plan.seed, "title")
    images = Path(out) / "images"
    images.mkdir(parents=True, exist_ok=True)
    rows = []
    for number, item in enumerate(items, 1):
        new_id = f"P{number:05d}"
        link = images / f"{new_id}{Path(item.source).suffix.lower()}"
        if not link.is_symlink():
            os.symlink(Path(item.source).resolve(), link)
        row = {id_name: new_id, title_name: item.title}
        for attribute, column in names.items():
            value = item.attributes.get(attribute, "")
            row[column] = words.get(attribute, {}).get(value, value)
        rows.append(row)
    path = Path(out) / "products.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


__all__ = ["KIND_PARTS", "ShopPlan", "column_names", "make_shop", "pick_products", "value_words"]
