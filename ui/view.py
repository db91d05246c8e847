"""What the app shows for a dialogue state: product cards, filters with counts, the
reference, start-up examples and the details panel, for any catalogue's schema."""

from __future__ import annotations

from collections import Counter

import numpy as np

from agent.language.prices import price_attribute, range_words
from agent.search import TurnSearch
from agent.state import Constraint, DialogueState, Result
from retrieval.catalogues.columns import shopper_facing
from retrieval.catalogues.schema import CatalogueSchema
from retrieval.indexing.gallery import AttributeTable
from ui.replies import constraint_text, request_words, why_matched

ANY = "any"
MAX_FILTERS = 6  # one control per main attribute, at most this many
STAGES = ("rewrite", "compose", "search", "initiative", "total")
MAX_CHIPS = 6  # chip buttons on the page


def main_attributes(schema: CatalogueSchema, limit: int = MAX_FILTERS) -> list[str]:
    """The attributes a shopper filters by: the kind first, then the others in the schema's
    order, leaving out those broader than the kind (its article type implies them)."""
    broader = schema.ancestors_of_kind()
    names = [n for n in schema.categorical if n not in broader]
    if schema.kind in names:
        names.remove(schema.kind)
        names.insert(0, schema.kind)
    return names[:limit]


def describe(result: Result, schema: CatalogueSchema | None = None) -> str:
    """The product's name, else its main values in words ('red striped dress')."""
    if result.title:
        return result.title
    if schema is not None and schema.kind in result.attributes:
        others = [result.attributes[n] for n in schema.categorical if n != schema.kind]
        return " ".join([*others, result.attributes[schema.kind]]).strip()
    return " ".join(result.attributes.values())


def card_caption(result: Result, schema: CatalogueSchema) -> str:
    """A product card's text: its name, its main values, and why it matched."""
    lines = [describe(result, schema)]
    price = price_attribute(schema)
    if result.title:
        values = [result.attributes.get(n, "") for n in main_attributes(schema)]
        lines.append(" · ".join(v for v in [*values, result.attributes.get(price or "", "")] if v))
    elif price and result.attributes.get(price):
        lines.append(result.attributes[price])
    why = why_matched(result.matches)
    if why:
        lines.append(why)
    return "\n".join(lines)


def gallery_items(thumbnails, results: list[Result], schema: CatalogueSchema) -> list[tuple]:
    """(image file, card caption) per result: files the browser caches, not images."""
    files = thumbnails.paths([r.id for r in results])
    return [(f, card_caption(r, schema)) for f, r in zip(files, results)]


def reference(thumbnails, catalogue, state: DialogueState, picked: str | None):
    """(image or file, label) of what the next turn starts from: a picked result, else the
    state's reference (an upload is shown from its thumbnail)."""
    item_id = picked or (state.reference.item_id if state.reference else None)
    if item_id:
        item = catalogue.items[catalogue.index_of(item_id)]
        return thumbnails.path(item_id), f"Starting from: {item.title or item_id}"
    if state.reference is not None and state.reference.kind == "upload":
        from agent.thumbnails import from_thumbnail

        return from_thumbnail(state.reference.thumbnail_png), "Starting from: your upload"
    return None, "Reference"


class Facets:
    """Counts per value of the main attributes, under the search's other filters.

    The counts use the constraints the agent's search filters by (`TurnSearch.filtering`:
    with soft constraints, only the clicked ones), less the facet's own requirement, over
    the gallery's attribute table: a count is what the next search can return with it.
    """

    def __init__(self, searcher: TurnSearch):
        self.searcher, self.table = searcher, searcher.table
        self.price = price_attribute(searcher.schema)
        self.names = main_attributes(searcher.schema) + ([self.price] if self.price else [])

    def _counts(self, name: str, constraints: list[Constraint]) -> dict[str, int]:
        """{value: items} of `name` among the items the constraints allow (prices included)."""
        return self.table.tally(name, self.searcher.allowed(constraints))

    def choices(self, name: str, constraints: list[Constraint]) -> list[tuple[str, str]]:
        """[(label, value)]: 'any' and each shopper-facing value (columns.shopper_facing:
        short, no markup, links or paths, no 'Other') with its count, most first; the
        selected value stays listed even when nothing else has it. Prices: ranges
        (`price_ranges`)."""
        others = [
            c
            for c in self.searcher.filtering(constraints)
            if not (c.attribute == name and c.polarity == "require")
        ]
        if name == self.price:
            return self.price_ranges(name, others, selected_value(constraints, name))
        counts = Counter(self._counts(name, others))
        selected = selected_value(constraints, name)
        values = [v for v, _ in counts.most_common() if shopper_facing(v)]
        if selected != ANY and selected not in values:
            values.insert(0, selected)
        return [(ANY, ANY), *((f"{v} ({counts.get(v, 0):,})", v) for v in values)]

    def price_ranges(
        self, name: str, others: list[Constraint], selected: str
    ) -> list[tuple[str, str]]:
        """'any', then three ranges that split the prices the other filters allow into
        thirds (at rounded prices), each with its count; the selected range stays listed."""
        allowed = self.searcher.allowed(others)
        prices = self.searcher.numbers(name)
        prices = prices[~np.isnan(prices) & (True if allowed is None else allowed)]
        ranges = []
        if len(prices):
            cuts = sorted({_round(q) for q in np.quantile(prices, [1 / 3, 2 / 3])})
            edges = [None, *cuts, None]
            ranges = [range_words(a, b) for a, b in zip(edges, edges[1:])]
        if selected != ANY and selected not in ranges:
            ranges.insert(0, selected)
        labels = []
        for words in ranges:
            wanted = Constraint(attribute=name, value=words)
            mask = self.searcher.allowed([*others, wanted])
            labels.append((f"{words} ({0 if mask is None else int(mask.sum()):,})", words))
        return [(ANY, ANY), *labels]


def _round(price: float) -> float:
    """A price a filter names: two significant digits (24.37 -> 24, 1234 -> 1200)."""
    return float(f"{price:.2g}")


def selected_value(constraints: list[Constraint], name: str) -> str:
    """The value a filter shows: the attribute's requirement (a price's range), else 'any'."""
    required = [
        c.value
        for c in constraints
        if c.attribute == name and c.polarity == "require" and not c.ordering
    ]
    return required[-1] if required else ANY


def examples(schema: CatalogueSchema, table: AttributeTable, count: int = 3) -> list[str]:
    """Start-up examples from the catalogue's own values: its commonest combinations of a
    colour (or the first other attribute) and the kind in the gallery's attribute table,
    said as a shopper would."""
    kind = schema.kind
    if not kind:
        return ["something like this"]
    colour = next(iter(schema.by_role("color")), None) or next(
        (n for n in main_attributes(schema) if n != kind), None
    )
    pairs = Counter()
    if colour in table.values and kind in table.values:
        for kind_value in table.tally(kind):
            kinds = table.mask([Constraint(attribute=kind, value=kind_value)])
            for value, n in table.tally(colour, kinds).items():
                pairs[(value, kind_value)] = n
    out = []
    for (value, kind_value), _ in pairs.most_common(count * 4):
        facing = shopper_facing(value) and shopper_facing(kind_value)
        if facing and kind_value not in {k for _, k in out}:
            out.append((value, kind_value))
        if len(out) == count:
            break
    said = [
        request_words(
            schema, [Constraint(attribute=colour, value=v), Constraint(attribute=kind, value=k)]
        )
        for v, k in out
    ]
    facing = [v for v in schema.attributes[colour].values if shopper_facing(v)] if colour else []
    if len(facing) > 1:
        said.append(f"in {facing[1].lower()}")
    return said


def details_markdown(agent, state: DialogueState) -> str:
    """Models, per-stage latency, the exact constraints and where each came from, what was
    held back, what the chips are worth: the agent's notation has its place here."""
    encoder = agent.encoder
    dtype = str(getattr(encoder, "dtype", "")).replace("torch.", "")
    lines = [
        f"**Models**: encoder `{encoder.model_id}` on `{encoder.device}` ({dtype}), "
        f"composer `{state.composer}`, rewriter `{agent.rewriter.name}`, "
        f"{len(agent.index):,} items indexed",
    ]
    if state.turns:
        last = state.turns[-1]
        stages = ", ".join(
            f"{s} {last.timings_ms[s]:.1f} ms" for s in STAGES if s in last.timings_ms
        )
        lines.append(f"**Last turn**: {stages}")
        if last.caption:
            lines.append(f"**Searched caption**: `{last.caption}`")
        if last.sources:
            lines.append("**Read by**: " + ", ".join(f"`{k}` {v}" for k, v in last.sources.items()))
        if last.overruled:
            lines.append(f"**LLM readings not used**: `{constraint_text(last.overruled)}`")
        if last.fallback_reason:
            lines.append(f"**LLM fallback**: {last.fallback_reason}")
        if last.held_back:
            lines.append(f"**Held back (asked)**: `{constraint_text(last.held_back)}`")
        if last.offer:
            shares = ", ".join(f"{c.value} {c.share:.0%}" for c in last.offer.chips)
            lines.append(f"**{last.offer.kind.title()}** on `{last.offer.attribute}`: {shares}")
    if state.constraints:
        lines.append(f"**Filters**: `{constraint_text(state.constraints)}`")
    return "\n\n".join(lines)
