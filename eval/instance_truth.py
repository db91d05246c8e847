"""Ground truth of "this style in other colours" on a photo catalogue, and its Oxford scores.

Two sources, the first a catalogue has:

- `colourway_truth`: the shop's own product groups (`Item.group`: a Shopify Handle, a feed's
  item_group_id, a Magento configurable parent, a product code) where its export has them;
- `title_truth`: styles from product names, a name without its colour words (the schema's
  colour values and the shipped lexicon's colour words, no vocabulary of one shop), kept
  where 2..MAX_STYLE items share it in at least two colours.

A query's relevant items are the other items of its group in another colour; the items of its
group in its own colour (the query itself, a size variant, a duplicate photo) are junk: left
out of its ranking, neither relevant nor wrong (Oxford protocol). A catalogue without a colour
role counts every other item of the group as relevant.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from retrieval.catalogues.split import in_test

MAX_STYLE = 4  # larger name groups are generic names ("Men Solid Sweatshirt"), not one style


@dataclass(frozen=True)
class InstanceTruth:
    """groups (N,): the style of each item (a group of its own where it has none);
    colours (N,): its colour as an integer (unique per item where the schema has no colour);
    source: 'colourways' or 'titles'; styles: groups of two items or more."""

    groups: np.ndarray
    colours: np.ndarray
    source: str
    styles: int

    def relevant(self, query: int) -> np.ndarray:
        """Rows of the same group in another colour."""
        same = self.groups == self.groups[query]
        return np.flatnonzero(same & (self.colours != self.colours[query]))

    def junk(self, query: int) -> np.ndarray:
        """Rows of the same group in the same colour, the query included."""
        same = self.groups == self.groups[query]
        return np.flatnonzero(same & (self.colours == self.colours[query]))


def colour_words(catalogue) -> set[str]:
    """Words naming a colour: the lexicon's colour words and the catalogue's colour values."""
    from retrieval.catalogues import lexicon

    words = set()
    for concept in lexicon.load().domains["color"].concepts.values():
        words |= {concept.name, *concept.words}
    for attribute in catalogue.schema.by_role("color"):
        words |= {v.lower() for v in catalogue.schema.attributes[attribute].values}
    return {w for phrase in words for w in re.findall(r"[a-z0-9]+", phrase.lower())}


def colour_codes(catalogue) -> np.ndarray:
    """(N,) one integer per colour (the values of the schema's colour attributes together);
    every item its own code where the schema has no colour or the item no colour value."""
    colours = catalogue.schema.by_role("color")
    codes: dict[tuple, int] = {}
    out = []
    for row, item in enumerate(catalogue.items):
        key = tuple(item.attributes.get(a, "").strip().lower() for a in colours)
        if not colours or not any(key):
            key = ("#item", row)
        out.append(codes.setdefault(key, len(codes)))
    return np.array(out, dtype=np.int64)


def _numbered(keys: list[str], kept: set[str]) -> np.ndarray:
    """Group ids: 0.. for the kept keys (sorted), then one id per other item."""
    ids = {k: i for i, k in enumerate(sorted(kept))}
    singles = iter(range(len(ids), len(ids) + len(keys)))
    return np.array([ids[k] if k in ids else next(singles) for k in keys], dtype=np.int64)


def colourway_truth(catalogue) -> InstanceTruth | None:
    """Styles from the shop's product groups (None where no two items share a group): a group
    counts where its items come in at least two colours."""
    keys = [item.group for item in catalogue.items]
    colours = colour_codes(catalogue)
    by_group = defaultdict(set)
    for key, colour in zip(keys, colours):
        if key:
            by_group[key].add(int(colour))
    kept = {k for k, found in by_group.items() if len(found) > 1}
    if not kept:
        return None
    return InstanceTruth(_numbered(keys, kept), colours, "colourways", len(kept))


def style_key(title: str, words: set[str]) -> str:
    """A product name without its colour words, lower case ('' where nothing is left)."""
    return " ".join(t for t in re.findall(r"[a-z0-9]+", title.lower()) if t not in words)


def title_truth(catalogue, max_size: int = MAX_STYLE) -> InstanceTruth:
    """Styles from product names: names equal once colour words are dropped, in groups of
    2..max_size with at least two colours, share a style; every other item is its own group."""
    words = colour_words(catalogue)
    keys = [style_key(item.title, words) for item in catalogue.items]
    colours = colour_codes(catalogue)
    by_key = defaultdict(set)
    for key, colour in zip(keys, colours):
        by_key[key].add(int(colour))
    sizes = Counter(keys)
    kept = {k for k, n in sizes.items() if k and 2 <= n <= max_size and len(by_key[k]) > 1}
    return InstanceTruth(_numbered(keys, kept), colours, "titles", len(kept))


def instance_truth(catalogue) -> InstanceTruth:
    """The shop's colourway groups where its items have them, else styles from titles."""
    return colourway_truth(catalogue) or title_truth(catalogue)


def query_rows(catalogue, truth: InstanceTruth, count: int, seed: int = 0) -> np.ndarray:
    """(Q,) sorted seeded rows of the test part (retrieval/catalogues/split.py) that have at
    least one relevant item."""
    sizes = np.bincount(truth.groups)
    rows = [
        row
        for row, item in enumerate(catalogue.items)
        if sizes[truth.groups[row]] > 1 and in_test(item) and len(truth.relevant(row))
    ]
    rng = np.random.default_rng([seed, 18])
    chosen = rng.choice(np.array(rows, dtype=np.int64), min(count, len(rows)), replace=False)
    return np.sort(chosen)


def oxford_scores(rankings: np.ndarray, truth: InstanceTruth, queries: np.ndarray) -> dict:
    """{"map", "precision_at_10"} of rankings (Q, R) of gallery rows (-1 = none): each
    query's junk is removed from its ranking first; relevant items beyond R add 0."""
    aps, p10 = [], []
    for ranking, query in zip(np.asarray(rankings), np.asarray(queries)):
        relevant = set(truth.relevant(int(query)).tolist())
        junk = set(truth.junk(int(query)).tolist())
        kept = [r for r in ranking.tolist() if r >= 0 and r not in junk]
        hits = np.array([r in relevant for r in kept], dtype=bool)
        ranks = np.flatnonzero(hits) + 1
        precision = np.arange(1, len(ranks) + 1) / ranks
        aps.append(precision.sum() / len(relevant) if relevant else 0.0)
        p10.append(hits[:10].sum() / 10.0)
    return {
        "map": round(float(np.mean(aps)), 4),
        "precision_at_10": round(float(np.mean(p10)), 4),
    }
