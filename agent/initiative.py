"""The agent's initiative after a turn: refinement chips grounded in the current candidates,
or a short question when the shopper's words were ambiguous (no LLM needed).

Suggestions follow PlugIR's idea without its LLM: look at the top-ranked candidates (score-
weighted), and for each attribute not yet fixed measure how evenly they spread over its
values; the attribute that splits them best offers its most frequent values as chips.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from agent.rewriters import Rewrite
from agent.state import Chip, Constraint, DialogueState, Offer
from retrieval.catalogues.columns import cell_values, shopper_facing
from retrieval.catalogues.schema import CatalogueSchema

TEMPERATURE = 0.05  # score weights exp((score - best) / T): nearer the top weighs more
MIN_SHARE = 0.03  # a value below this share of the weight is no chip
MAX_SHARE = 0.9  # an attribute whose top value holds this share is settled: no chips
MIN_CHIPS, MAX_CHIPS = 3, 6


def _fixed(schema: CatalogueSchema, constraints: list[Constraint]) -> set[str]:
    """Attributes the search already settles: required ones and the broader ones they imply
    (Casual Shoes settles Footwear; Footwear leaves the kind of shoe open)."""
    out = set()
    for c in constraints:
        if c.polarity == "require" and c.attribute in schema.attributes:
            out |= {c.attribute, *schema.ancestors(c.attribute)}
    return out


def spread(items: list[dict[str, str]], scores: np.ndarray, attribute: str) -> dict[str, float]:
    """{value: share of the candidates' score weight} of one attribute, largest first; a
    cell of several values ('Red|Blue') gives each its weight."""
    weights = np.exp((scores - scores.max()) / TEMPERATURE)
    shares: dict[str, float] = defaultdict(float)
    for attributes, w in zip(items, weights):
        for value in cell_values(attributes.get(attribute, "")):
            shares[value] += float(w)
    total = sum(shares.values()) or 1.0
    return dict(sorted(((v, s / total) for v, s in shares.items()), key=lambda kv: -kv[1]))


def _evenness(shares: dict[str, float]) -> float:
    """Entropy of the shares over the values a chip row can show (the rest lumped as one),
    so an attribute with 70 thin values does not beat one that splits into three halves."""
    top = [s for s in list(shares.values())[:MAX_CHIPS] if s > 0]
    rest = max(0.0, 1.0 - sum(top))
    p = np.array(top + ([rest] if rest > 1e-9 else []))
    return float(-(p * np.log(p)).sum()) if len(p) > 1 else 0.0


def _chips(attribute: str, shares: dict[str, float], limit: int) -> list[Chip]:
    """Chips of the commonest values a shopper can read (columns.shopper_facing: short, no
    markup, links, paths or k=v lists, no 'Other')."""
    facing = [(v, s) for v, s in shares.items() if shopper_facing(v)]
    return [
        Chip(attribute=attribute, value=v, share=round(s, 3))
        for v, s in facing[:limit]
        if s >= MIN_SHARE
    ]


def suggest(
    schema: CatalogueSchema,
    items: list[dict[str, str]],
    scores: np.ndarray,
    constraints: list[Constraint],
    avoid: set[str] = frozenset(),
) -> Offer | None:
    """Chips of the one attribute that splits the candidates best and has at least two values
    to offer (None when all agree): a chip row never mixes attributes, so the reply that names
    the attribute and its chips agree ("by season: Fall or Summer?", never "... or White?")."""
    if len(items) < 2:
        return None
    fixed = _fixed(schema, constraints) | set(avoid)
    ranked = []
    for name in schema.categorical:
        if name in fixed:
            continue
        shares = spread(items, scores, name)
        if shares and next(iter(shares.values())) < MAX_SHARE and len(shares) > 1:
            ranked.append((_evenness(shares), name, shares))
    if not ranked:
        return None
    ranked.sort(key=lambda r: -r[0])
    for _, name, shares in ranked:
        chips = _chips(name, shares, MAX_CHIPS)
        if len(chips) >= 2:
            return Offer(kind="suggestion", attribute=name, chips=chips)
    return None


def ambiguity_question(word: str, options: list[Constraint]) -> Offer:
    """ "By sneakers, do you mean Casual Shoes or Sports Shoes?" for a word that fits several
    values of one attribute."""
    chips = [Chip(attribute=o.attribute, value=o.value) for o in options]
    return Offer(kind="question", attribute=options[0].attribute, chips=chips, word=word)


def kind_question(
    schema: CatalogueSchema, items: list[dict[str, str]], scores: np.ndarray
) -> Offer | None:
    """What kind of item? asked from the candidates, when the words gave the search nothing
    to hold on to and the candidates are of many kinds."""
    if not schema.kind or len(items) < 2:
        return None
    shares = spread(items, scores, schema.kind)
    if not shares or next(iter(shares.values())) >= 0.5:
        return None
    chips = _chips(schema.kind, shares, MAX_CHIPS)
    if len(chips) < 2:
        return None
    return Offer(kind="question", attribute=schema.kind, chips=chips)


def hold_back_ambiguous(
    rewrite: Rewrite, active: list[Constraint]
) -> tuple[Rewrite, list[Constraint], Offer | None]:
    """(the rewrite to apply, the guesses held back, the question to ask) for a message with
    ambiguous words. An option the shopper avoids (now or earlier) is no option; one already
    required, or the only one left, is the reading; otherwise the guess is held back and the
    first such word is asked about."""
    if not rewrite.ambiguities:
        return rewrite, [], None
    avoided = {
        (c.attribute, c.value) for c in [*active, *rewrite.constraints] if c.polarity == "avoid"
    }
    required = {(c.attribute, c.value) for c in active if c.polarity == "require"}
    constraints, held, question = list(rewrite.constraints), [], None
    for ambiguity in rewrite.ambiguities:
        guess = ambiguity.options[0]
        options = [o for o in ambiguity.options if (o.attribute, o.value) not in avoided]
        chosen = next((o for o in options if (o.attribute, o.value) in required), None)
        if chosen is None and len(options) == 1:
            chosen = options[0]
        constraints = [c for c in constraints if c != guess]
        if chosen is not None:
            constraints.append(chosen)
        elif options:
            held.append(guess)
            question = question or ambiguity_question(ambiguity.word, options)
    return rewrite.model_copy(update={"constraints": constraints}), held, question


def chips_after_search(schema: CatalogueSchema, state: DialogueState, rewrite, searched, searcher):
    """Chips (or a question) from a turn's search: its candidates, and the constraints that
    filter them (`searcher`: the agent's TurnSearch)."""
    filtering = searcher.filtering(state.constraints)
    return take_initiative(schema, state, rewrite, searched.candidates, filtering)


def take_initiative(
    schema: CatalogueSchema,
    state: DialogueState,
    rewrite: Rewrite,
    candidates: list,
    filtering: list[Constraint],
) -> Offer | None:
    """After a search: what kind of item? when the words gave it nothing to hold on to (no
    value, no reference, no earlier requirement), else refinement chips on the attributes
    the `filtering` constraints leave open (a value read from words that only steers the
    query, with filters off, can still be offered: the chips show whether it worked)."""
    if not candidates:
        return None
    items = [hit.item.attributes for hit in candidates]
    scores = np.array([hit.score for hit in candidates], np.float32)
    vague = not (rewrite.constraints or state.constraints or state.reference)
    if vague and rewrite.caption:
        asked = kind_question(schema, items, scores)
        if asked:
            return asked
    return suggest(schema, items, scores, filtering)
