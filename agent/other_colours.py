""" "Other colours of this item": a turn answered by the gallery's instance index.

The shop's own colourways come first: the other items of the item's product group (Item.group,
where its export says which rows are one product). Where the schema has a colour role, items in
the pick's own colour are left out (a size variant, the same style twice); the turn's note says
when the shop lists no other colours of the product. The instance index (retrieval/instance)
holds a second, colour-invariant vector per item; its nearest neighbours are the same style in
other colourways. The index is opened (built where missing) once for every session: in the
background when the app starts, else on first use; an item with colourways of its own needs
none.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from agent.language.intent import read_intent
from agent.state import DialogueState, Reference, Result, TurnRecord
from agent.turn import Turn, TurnError

FETCHED = 100  # instance neighbours fetched, then the same kind in another colour first
NO_COLOURWAYS = "the shop lists no other colours of this product: here are the closest styles"
NO_OTHER_COLOURS = "no other colours of this item"


def same_colour(schema, attributes: dict, other: dict) -> bool:
    """True where the schema has colour attributes, the pick has a colour value and `other`
    has the same values: such an item is not "another colour" of the pick."""
    colours = schema.by_role("color")
    if not colours or not any(attributes.get(c) for c in colours):
        return False
    return all(other.get(c) == attributes.get(c) for c in colours)


def prefer_same_kind_other_colour(schema, attributes: dict, results: list[Result]) -> list[Result]:
    """`results` (best first) without those in the item's own colour (where the schema has a
    colour role), those of the item's kind ahead where the schema names a kind attribute."""
    kind = schema.kind
    kept = [r for r in results if not same_colour(schema, attributes, r.attributes)]
    return sorted(kept, key=lambda r: bool(kind) and r.attributes.get(kind) != attributes.get(kind))


class InstanceUnavailable(RuntimeError):
    """No instance index can answer for this gallery; the message says why."""


class InstancePreparing(InstanceUnavailable):
    """The instance index is being opened (or built) in the background: not yet."""


class LazyInstance:
    """Opens an instance search once (thread-safe), then keeps it: on first use, or in the
    background from `start()` (an app at start-up), in which case a request before it is
    ready is refused at once (`InstancePreparing`) instead of waiting for the build.

    Args:
        opener: returns a retrieval.instance.InstanceSearch for the agent's gallery.
    """

    def __init__(self, opener: Callable[[], object]):
        self._opener, self._search, self._lock = opener, None, threading.Lock()
        self._failure: str | None = None
        self._thread: threading.Thread | None = None

    @property
    def status(self) -> str:
        """'ready', 'preparing' (opening in the background), 'unavailable' or 'not started'."""
        if self._search is not None:
            return "ready"
        if self._failure is not None:
            return "unavailable"
        return "preparing" if self._thread is not None else "not started"

    def start(self) -> None:
        """Open the instance search in a background thread (once)."""
        with self._lock:
            if self._thread is None and self._search is None and self._failure is None:
                self._thread = threading.Thread(
                    target=self._open, name="instance-index", daemon=True
                )
                self._thread.start()

    def wait(self, timeout: float | None = None) -> str:
        """Wait for a background opening to end; returns the status."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.status

    def _open(self) -> None:
        with self._lock:
            if self._search is None and self._failure is None:
                try:
                    self._search = self._opener()
                except (OSError, ValueError) as err:  # a missing head, an unreadable file
                    self._failure = f"other colours are not available here: {err}"

    @property
    def ready(self) -> bool:
        """True once the instance search is open (asking for it then never waits)."""
        return self._search is not None

    def get(self):
        if self.status == "preparing":
            raise InstancePreparing(
                "other colours are still being prepared (the colour index of the catalogue is "
                "being built): try again in a minute"
            )
        if self._search is None and self._failure is None:
            self._open()
        if self._failure:
            raise InstanceUnavailable(self._failure)
        return self._search


class OtherColours:
    """The turn "other colours of an item" over one gallery: the item becomes the reference
    (and a liked pick), the results are its nearest instance neighbours.

    Args:
        index: the gallery's SearchIndex.
        searcher: the agent's TurnSearch (results as the agent shows them).
        schema: the catalogue's schema (the kind and colour attributes).
        k: results shown.
        instance: the gallery's instance index, opened lazily (None: not available).
    """

    def __init__(self, index, searcher, schema, k: int, instance: LazyInstance | None):
        self.index, self.searcher, self.schema, self.k = index, searcher, schema, k
        self.instance = instance
        self._groups: dict[str, list[str]] | None = None

    def asked(self, state: DialogueState, turn: Turn) -> str | None:
        """The item whose other colours a message asks for ("this in other colours": the
        words of the action, never a colour named 'Other'): the pick, else the reference;
        None for any other turn, or where the instance index is not open yet (a message
        never waits for it to be built)."""
        if not turn.text or turn.image is not None or turn.choose is not None:
            return None
        instance = self.instance
        if instance is None or not instance.ready or not read_intent(turn.text).other_colours:
            return None
        return turn.select or turn.item or (state.reference.item_id if state.reference else None)

    def colourways(self, item_id: str) -> list[str]:
        """The ids of the other items of `item_id`'s product group, in catalogue order."""
        if self._groups is None:
            groups: dict[str, list[str]] = {}
            for item in self.index.items:
                if item.group:
                    groups.setdefault(item.group, []).append(item.id)
            self._groups = groups
        group = self.index.items[self.index.positions[item_id]].group
        return [i for i in self._groups.get(group, []) if i != item_id] if group else []

    def validate(self, item_id: str):
        """The instance search that answers for `item_id` (None where the item's own
        colourways answer and no instance index is at hand); TurnError if nothing can."""
        if item_id not in self.index.positions:
            raise TurnError(f"item {item_id!r} is not in the catalogue")
        if self.colourways(item_id):
            try:
                return self.instance.get() if self.instance is not None else None
            except InstanceUnavailable:
                return None
        if self.instance is None:
            raise TurnError("other colours need an instance index: this agent has none")
        try:
            return self.instance.get()
        except InstanceUnavailable as err:
            raise TurnError(str(err)) from None

    def apply(self, new: DialogueState, item_id: str, search) -> TurnRecord:
        """Carry the turn out on `new` (a fork of the state); returns its record."""
        new.reference = Reference(kind="item", item_id=item_id)
        if item_id not in new.liked:
            new.liked.append(item_id)
        items, positions = self.index.items, self.index.positions
        item = items[positions[item_id]]
        own = [
            i
            for i in self.colourways(item_id)
            if not same_colour(self.schema, item.attributes, items[positions[i]].attributes)
        ][: self.k]
        hits = search.other_colours(item_id, max(self.k, FETCHED)) if search is not None else []
        found = [
            self.searcher.result(items[positions[i]], score, new)
            for i, score in hits
            if i not in own and i != item_id
        ]
        results = [self.searcher.result(items[positions[i]], 1.0, new) for i in own]
        results += prefer_same_kind_other_colour(self.schema, item.attributes, found)
        results = results[: self.k]
        return TurnRecord(
            action="other_colours",
            caption=f"other colours of {item.title or item_id}",
            reference_id=item_id,
            results=results,
            note=NO_OTHER_COLOURS if not results else ("" if own else NO_COLOURWAYS),
        )
