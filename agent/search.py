"""How a turn searches: the active constraints as filters, items shown or rejected left out,
fallbacks when too few match."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from agent.state import Constraint, DialogueState, Result
from retrieval.catalogues.schema import CatalogueSchema
from retrieval.index import SearchIndex
from retrieval.index.text_index import TextIndex, fused_search
from retrieval.indexing.gallery import AttributeTable

CANDIDATES = 50  # hits fetched for the agent's suggestions (the top 50, as PlugIR looks)


@dataclass
class Searched:
    """What a turn's search found."""

    results: list[Result]  # shown to the shopper
    ranking: list[str]  # ids of the top-`depth` ranking (evaluation), else []
    note: str  # what the agent tells the shopper about it
    mask: np.ndarray | None  # (N,) bool of the rows the final search could return
    matching: int = 0  # catalogue items that meet every requirement and avoid
    candidates: list = field(default_factory=list)  # the top CANDIDATES hits (suggestions)


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
    ):
        self.index, self.schema, self.k = index, schema, k
        self.exclude_shown, self.hard_constraints = exclude_shown, hard_constraints
        self.table = table  # the gallery's attribute table over the index's items
        self.text = text  # the shop's titles and descriptions, where it has them

    def _hits(self, query, k: int, exclude: set[str], allowed, words: list[str]) -> list:
        """The top-k hits: the vector ranking, fused with the text ranking of `words`."""
        if self.text is not None and words:
            return fused_search(self.index, self.text, query, words, k, exclude, allowed)
        return self.index.search(query, k, exclude=exclude, allowed=allowed)[0]

    def filtering(self, constraints: list[Constraint], requires: bool = True) -> list[Constraint]:
        """The constraints that filter (clicked ones, and with hard constraints those read
        from words too); only the avoids when `requires` is False."""
        return [
            c
            for c in constraints
            if (requires or c.polarity == "avoid") and (self.hard_constraints or c.clicked)
        ]

    def allowed(self, constraints: list[Constraint], requires: bool = True) -> np.ndarray | None:
        """Items allowed by the constraints (only the avoids when `requires` is False); None
        when nothing filters."""
        active = self.filtering(constraints, requires)
        if not (self.schema.categorical and active):
            return None
        return self.table.mask(active)

    def _excluded(self, state: DialogueState) -> set[str]:
        excluded = set(state.rejected)
        if state.reference and state.reference.item_id:
            excluded.add(state.reference.item_id)
        return excluded

    def _mask(self, allowed: np.ndarray | None, excluded: set[str]) -> np.ndarray:
        mask = np.ones(len(self.index), bool) if allowed is None else allowed.copy()
        mask[[self.index.positions[i] for i in excluded if i in self.index.positions]] = False
        return mask

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
        fetch = max(k, CANDIDATES)
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
        results = [self.result(h.item, h.score, state) for h in hits[: self.k]]
        ranking = [h.item.id for h in hits[:k]] if depth else []
        return Searched(results, ranking, note, self._mask(*used), matching, hits)

    def _relaxed(
        self, state: DialogueState, query: np.ndarray, k: int, excluded: set[str], words: list
    ):
        """(hits, allowed mask, note) with one requirement dropped (the kind of item last),
        else with every requirement dropped; the note names what the results are not."""
        required = [c for c in state.constraints if c.polarity == "require"]
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
        required = [c for c in state.constraints if c.polarity == "require"]
        return Result(
            id=item.id,
            score=round(float(score), 4),
            attributes=item.attributes,
            title=item.title,
            matches=[c.value for c in required if item.attributes.get(c.attribute) == c.value],
        )
