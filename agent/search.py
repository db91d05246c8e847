"""How a turn searches: the active constraints as filters, items shown or rejected left out,
fallbacks when too few match."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from agent.constraints import numeric
from agent.language.prices import bounds_from_words, range_words
from agent.state import Constraint, DialogueState, Result
from retrieval.catalogues.columns import has_value
from retrieval.catalogues.schema import CatalogueSchema
from retrieval.index import SearchIndex
from retrieval.index.text_index import TextIndex, fused_search
from retrieval.indexing.gallery import AttributeTable

CANDIDATES = 50  # hits fetched for the agent's suggestions (the top 50, as PlugIR looks)
ORDER_POOL = 500  # with an order ("cheapest first"): the best this many matches, reordered
RELATIVE_SHARE = 1 / 3  # "cheap": the cheapest third of the candidates; "pricey": the dearest


@dataclass
class Searched:
    """What a turn's search found."""

    results: list[Result]  # shown to the shopper
    ranking: list[str]  # ids of the top-`depth` ranking (evaluation), else []
    note: str  # what the agent tells the shopper about it
    mask: np.ndarray | None  # (N,) bool of the rows the final search could return
    matching: int = 0  # catalogue items that meet every requirement and avoid
    candidates: list = field(default_factory=list)  # the top CANDIDATES hits (suggestions)


def one_per_colourway(hits: list, colours: list[str]) -> list:
    """The hits with each product-colour once: a hit of the same product group (Item.group)
    and the same colour values as a better one is left out (items without a group all kept)."""
    kept, seen = [], set()
    for hit in hits:
        item = hit.item
        key = (item.group, tuple(item.attributes.get(c, "") for c in colours))
        if item.group and colours and key in seen:
            continue
        seen.add(key)
        kept.append(hit)
    return kept


class TurnSearch:
    """Filters and searches an index for dialogue states (shared read-only by every session)."""

    def __init__(
        self,
        index: SearchIndex,
        schema: CatalogueSchema,
        table: AttributeTable,
        k: int,
        exclude_shown: bool,
        hard_constraints: bool,
        text: TextIndex | None = None,
        text_weight: float = 1.0,
    ):
        self.index, self.schema, self.k = index, schema, k
        self.exclude_shown, self.hard_constraints = exclude_shown, hard_constraints
        self.table = table  # the gallery's attribute table over the index's items
        self._numeric_columns: dict[str, np.ndarray] = {}  # attribute -> (N,) float
        self.text = text  # the shop's titles and descriptions, where it has them
        self.text_weight = text_weight  # the text ranking's weight in the fusion

    def _hits(self, query, k: int, exclude: set[str], allowed, words: list[str]) -> list:
        """The top-k hits: the vector ranking, fused with the text ranking of `words`."""
        if self.text is not None and words:
            return fused_search(
                self.index, self.text, query, words, k, exclude, allowed, self.text_weight
            )
        return self.index.search(query, k, exclude=exclude, allowed=allowed)[0]

    def filtering(self, constraints: list[Constraint], requires: bool = True) -> list[Constraint]:
        """The constraints that filter (clicked ones, and with hard constraints those read
        from words too; price bounds always: no query says them); only the avoids when
        `requires` is False. Orders never filter."""
        return [
            c
            for c in constraints
            if (requires or c.polarity == "avoid")
            and (self.hard_constraints or c.clicked or numeric(c, self.schema))
            and not c.ordering
        ]

    def allowed(self, constraints: list[Constraint], requires: bool = True) -> np.ndarray | None:
        """Items allowed by the constraints (only the avoids when `requires` is False); None
        when nothing filters."""
        active = self.filtering(constraints, requires)
        bounded = [c for c in active if numeric(c, self.schema)]
        matched = [c for c in active if c not in bounded]
        if not ((self.schema.categorical and matched) or bounded):
            return None
        return self.table.mask(matched) & self.numeric_mask(bounded)

    def numbers(self, attribute: str) -> np.ndarray:
        """(N,) float: each item's value of a numeric attribute (NaN where it has none)."""
        if attribute not in self._numeric_columns:
            self._numeric_columns[attribute] = _numbers(self.table, attribute)
        return self._numeric_columns[attribute]

    def numeric_mask(self, constraints: list[Constraint]) -> np.ndarray:
        """(N,) bool: the items within every bound ("under 30", "20 to 40"); an item without a
        value is within none."""
        allowed = np.ones(self.table.size, bool)
        for c in constraints:
            low, high = bounds(c)
            if (low is None and high is None) or c.attribute not in self.table.codes:
                continue
            values = self.numbers(c.attribute)
            within = ~np.isnan(values)
            if low is not None:
                within &= values >= low - 1e-9
            if high is not None:
                within &= values <= high + 1e-9
            allowed &= within if c.polarity == "require" else ~within
        return allowed

    def resolved(self, constraints: list[Constraint]) -> list[Constraint]:
        """The constraints with relative bounds made numbers: "cheap" is the cheapest third
        (RELATIVE_SHARE) of the items the other constraints allow, "pricey" the dearest third;
        kept as such across later turns."""
        out = []
        for c in constraints:
            if c.relative is None or c.low is not None or c.high is not None:
                out.append(c)
                continue
            others = [o for o in constraints if o is not c and o.relative is None]
            allowed = self.allowed(others)
            values = self.numbers(c.attribute)
            values = values[~np.isnan(values) & (True if allowed is None else allowed)]
            if not len(values):
                continue  # nothing priced to compare: no bound
            if c.relative == "cheap":
                low, high = None, float(np.quantile(values, RELATIVE_SHARE))
            else:
                low, high = float(np.quantile(values, 1 - RELATIVE_SHARE)), None
            words = range_words(low, high)
            out.append(c.model_copy(update={"low": low, "high": high, "value": words}))
        return out

    def _ordered(self, hits: list, constraints: list[Constraint]) -> list:
        """The hits in the order the last order constraint asks (items without a value last)."""
        orders = [c for c in constraints if c.ordering and c.attribute in self.table.codes]
        if not orders:
            return hits
        order, values = orders[-1], self.numbers(orders[-1].attribute)
        sign = 1.0 if order.order == "ascending" else -1.0

        def key(hit):
            value = values[self.index.positions[hit.item.id]]
            return (np.isnan(value), sign * (0.0 if np.isnan(value) else value))

        return sorted(hits, key=key)

    def _excluded(self, state: DialogueState) -> set[str]:
        excluded = set(state.rejected)
        if state.reference and state.reference.item_id:
            excluded.add(state.reference.item_id)
        return excluded

    def _mask(self, allowed: np.ndarray | None, excluded: set[str]) -> np.ndarray:
        mask = self.index.searchable(excluded, allowed)
        return np.ones(len(self.index), bool) if mask is None else mask

    def search(
        self, state: DialogueState, query: np.ndarray, depth: int = 0, words: list[str] = ()
    ) -> Searched:
        """The results of a turn: the best items that meet every constraint and were not shown
        before, the vector ranking fused with the text ranking of `words` (searched in the
        shop's titles and descriptions); when too few are left, shown ones come back (and the
        note says how many); when none meets every requirement, the fewest requirements are
        relaxed (and the note says which)."""
        words = list(words)
        k = max(self.k, depth)
        ordered = any(c.ordering for c in state.constraints)
        fetch = max(k, ORDER_POOL if ordered else CANDIDATES)
        excluded = self._excluded(state)
        seen = set(state.shown) if self.exclude_shown else set()
        allowed = self.allowed(state.constraints)
        matching = len(self.index) if allowed is None else int(allowed.sum())
        note, used = "", (allowed, excluded | seen)
        hits = self._hits(query, fetch, excluded | seen, allowed, words)
        if len(hits) < k and seen:
            more = self._hits(query, fetch, excluded, allowed, words)
            again = sum(h.item.id in seen for h in more[: self.k])
            hits, used = more, (allowed, excluded)
            if again:
                note = f"you have seen every matching item; showing {again} of them again"
        if not hits and allowed is not None:
            hits, allowed, note = self._relaxed(state, query, fetch, excluded, words)
            matching = 0
            used = (allowed, excluded)
        if 0 < len(hits) < self.k and not note:
            note = f"only {len(hits)} items match all your requests"
        candidates = hits[:CANDIDATES]
        hits = self._ordered(hits, state.constraints)
        shown = one_per_colourway(hits, self.schema.by_role("color"))[: self.k]
        results = [self.result(h.item, h.score, state) for h in shown]
        ranking = [h.item.id for h in hits[:k]] if depth else []
        return Searched(results, ranking, note, self._mask(*used), matching, candidates)

    def _relaxed(
        self, state: DialogueState, query: np.ndarray, k: int, excluded: set[str], words: list
    ):
        """(hits, allowed mask, note) with one requirement dropped (the kind of item last),
        else with every requirement dropped; the note names what the results are not."""
        required = [c for c in state.constraints if c.polarity == "require" and not c.ordering]
        family = self.schema.family(self.schema.kind) if self.schema.kind else set()
        for dropped in sorted(required, key=lambda c: c.attribute in family):  # kind longest
            allowed = self.allowed([c for c in state.constraints if c is not dropped])
            hits = self._hits(query, k, excluded, allowed, words)
            if hits:
                kept = ", ".join(c.value for c in required if c is not dropped)
                these = (
                    f"these are {kept} but not {dropped.value}"
                    if kept
                    else (f"these are the closest items that are not {dropped.value}")
                )
                return hits, allowed, f"nothing left is also {dropped.value}: {these}"
        allowed = self.allowed(state.constraints, requires=False)
        hits = self._hits(query, k, excluded, allowed, words)
        asked = ", ".join(c.value for c in required)
        return hits, allowed, f"nothing left matches {asked}: these are the closest other items"

    @staticmethod
    def result(item, score: float, state: DialogueState) -> Result:
        """A catalogue item as shown, with the state's requested values it has."""
        required = [c for c in state.constraints if c.polarity == "require" and not c.ordering]
        return Result(
            id=item.id,
            score=round(float(score), 4),
            attributes=item.attributes,
            title=item.title,
            matches=[c.value for c in required if _has(item.attributes, c)],
        )


def bounds(c: Constraint) -> tuple[float | None, float | None]:
    """A numeric constraint's (low, high); a filter's choice gives them as words only."""
    if c.low is not None or c.high is not None:
        return c.low, c.high
    return bounds_from_words(c.value) or (None, None)


def _has(attributes: dict[str, str], c: Constraint) -> bool:
    """Whether an item's values meet a constraint (its value, or its price bounds)."""
    low, high = bounds(c)
    if low is None and high is None:
        return has_value(attributes.get(c.attribute), c.value)
    try:
        value = float(attributes.get(c.attribute, ""))
    except ValueError:
        return False
    return (low is None or value >= low - 1e-9) and (high is None or value <= high + 1e-9)


def _numbers(table: AttributeTable, attribute: str) -> np.ndarray:
    """(N,) float of a numeric attribute's column in an attribute table (NaN: no value)."""
    as_floats = np.array([_float(v) for v in table.values[attribute]], float)
    return as_floats[table.codes[attribute]]


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")
