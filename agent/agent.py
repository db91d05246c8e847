"""Agent.step: the single entry point from a shopper's turn to the next results.

Every turn (words, picks, uploads, chips, other colours) runs through one skeleton,
`Agent._turn`: validate, fork the state, act, record the turn with its timings and one undo
step."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import numpy as np

from agent.initiative import chips_after_search
from agent.other_colours import LazyInstance, OtherColours
from agent.reading import TurnReader, searched_as_text, what_was_read, words_beyond_the_filters
from agent.rewriters import Rewriter, RuleRewriter
from agent.search import TurnSearch
from agent.state import DialogueState, Reference, Result, TurnRecord, UndoStep
from agent.thumbnails import from_thumbnail, thumbnail
from agent.turn import (  # noqa: F401 (re-exported: the agent's API)
    AgentConfig,
    Turn,
    TurnError,
    TurnObserver,
    validate_turn,
)
from retrieval.catalogues.schema import CatalogueSchema
from retrieval.compose import DEFAULT_COMPOSER, build_composer
from retrieval.encoders.base import normalize
from retrieval.index import SearchIndex
from retrieval.indexing.gallery import Gallery
from retrieval.threads import one_torch_thread


class Agent:
    """A shopper's dialogue over one gallery: its encoder, index, schema and attribute table
    are the gallery's (`agent.encoder`, `.index`, `.schema` read them)."""

    def __init__(
        self,
        gallery: Gallery,
        composer: str = DEFAULT_COMPOSER,
        rewriter: Rewriter | None = None,
        config: AgentConfig | None = None,
        image_loader: Callable[[str], np.ndarray] | None = None,
        instance: LazyInstance | None = None,
    ):
        self.gallery = gallery
        self.config = config or AgentConfig()
        self.has_attributes = bool(self.schema.categorical)
        self.rewriter = rewriter or RuleRewriter(self.encoder, self.schema, gallery.shop_words)
        self.reader = TurnReader(self.rewriter, self.schema, self.config.initiative)
        self.image_loader = image_loader
        self._composers = {}
        self.default_composer = composer
        self.composer(composer)  # fail early on a bad name
        c = self.config
        # the shop's titles and descriptions: None where it has none
        text = gallery.text if c.text_search else None
        self.searcher = TurnSearch(
            self.index,
            self.schema,
            gallery.table,
            c.k,
            c.exclude_shown,
            c.hard_constraints,
            text,
            c.text_weight,
        )
        # "other colours": the gallery's instance index, opened lazily
        self.colours = OtherColours(self.index, self.searcher, self.schema, c.k, instance)

    @property
    def encoder(self):
        return self.gallery.encoder

    @property
    def index(self) -> SearchIndex:
        return self.gallery.index

    @property
    def schema(self) -> CatalogueSchema:
        return self.gallery.schema

    def composer(self, name: str):
        if name not in self._composers:
            reader = RuleRewriter(None, self.schema)  # lexicon only: cirevl's edits
            self._composers[name] = build_composer(
                name, self.encoder, rewriter=reader, catalogue=self.index.manifest.catalogue
            )
        return self._composers[name]

    def new_state(self, composer: str | None = None) -> DialogueState:
        return DialogueState(composer=composer or self.default_composer)

    def warm_up(self, messages: list[str] | None = None) -> float:
        """Run throw-away turns of each kind a shopper starts with (a message, words on a pick,
        an upload) so that the first real turn pays no first-call costs (the rewriter's value
        vectors, the towers, the composer, the search); returns the seconds it took."""
        started = time.perf_counter()
        self.rewriter.warm_up()
        kind = self.schema.attributes.get(self.schema.kind) if self.schema.kind else None
        messages = messages or [kind.values[0] if kind and kind.values else "something"]
        state = self.new_state()
        for message in messages[:2]:
            with contextlib.suppress(TurnError):
                state, _ = self.step(self.new_state(), Turn(text=message))
        if state.last_results:
            pick = state.last_results[0].id
            with contextlib.suppress(TurnError):
                self.step(state, Turn(text=messages[-1], select=pick))
        grey = np.full((64, 64, 3), 128, np.uint8)  # an upload: the image tower and thumbnail
        with contextlib.suppress(TurnError):
            self.step(self.new_state(), Turn(image=grey))
        return time.perf_counter() - started

    def step(
        self,
        state: DialogueState,
        turn: Turn,
        observer: TurnObserver | None = None,
        before: DialogueState | None = None,
    ) -> tuple[DialogueState, list[Result]]:
        """Apply one turn; returns the new state and the results to show.

        Args:
            observer: told of the turn's search (evaluation: the replay ranks its targets).
            before: the state undo goes back to (default `state`; the app passes the dialogue
                as it was before the page's settings were applied to `state`).
        """
        one_torch_thread()  # once per worker: a small query, a thread pool costs more than it saves
        turn = turn.cleaned()
        asked = self.colours.asked(state, turn)
        if asked is not None:
            new, results = self.other_colours(state, asked, before)
            new.turns[-1] = new.turns[-1].model_copy(update={"user_text": turn.text})
            return new, results
        return self._turn(
            state,
            before,
            lambda: validate_turn(state, turn, self.index.positions, self.schema),
            lambda new, timings, _: self._search_turn(state, new, turn, observer, timings),
        )

    def _turn(
        self,
        state: DialogueState,
        before: DialogueState | None,
        validate: Callable[[], object],
        act: Callable[[DialogueState, dict[str, float], object], TurnRecord],
    ) -> tuple[DialogueState, list[Result]]:
        """Every turn's skeleton: validate, fork, act, record the turn, its timings and one
        undo step. `act(new, timings, validated)` carries the turn out on the fork, given what
        `validate()` returned, and returns the record."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        checked = validate()
        new = state.fork()
        record = act(new, timings, checked)
        timings["total"] = _ms_since(started)
        record = record.model_copy(update={"timings_ms": timings})
        new.shown += [r.id for r in record.results if r.id not in new.shown]
        new.turns.append(record)
        undo_to = state if before is None else before
        new.undo_stack = [*undo_to.undo_stack, UndoStep.between(undo_to, new)]
        return new, record.results

    def _search_turn(
        self,
        state: DialogueState,
        new: DialogueState,
        turn: Turn,
        observer: TurnObserver | None,
        timings: dict[str, float],
    ) -> TurnRecord:
        """A turn of words, picks, uploads or chips on `new` (a fork of `state`): read it,
        compose the query, search, offer chips."""
        started = time.perf_counter()
        action = self._apply_action(new, turn)
        reading = self.reader.read_turn(state, new, turn)
        rewrite, caption = searched_as_text(self.searcher.text, turn.text, reading)
        if turn.image is not None:  # the upload's vector (references are never changed in place)
            vector = self.encoder.encode_images([turn.image])[0].tolist()
            new.reference = new.reference.model_copy(update={"vector": vector})
        new.constraints = self.searcher.resolved(new.constraints)  # "cheap": under a price
        timings["rewrite"] = _ms_since(started)

        t = time.perf_counter()
        started_over = rewrite.reset and not caption and new.reference is None
        unanswered = bool(rewrite.limits) and not caption and new.reference is None
        nothing = started_over or (unanswered and new.anchor_query is None)
        query = None if nothing else self._query(new, caption)
        timings["compose"] = _ms_since(t)
        t = time.perf_counter()
        depth = observer.depth if observer is not None else 0
        words = self._text_words(caption, new)
        searched = None if query is None else self.searcher.search(new, query, depth, words)
        timings["search"] = _ms_since(t)
        if observer is not None and searched is not None:
            observer.on_search(new, query, searched.mask, searched.ranking)
        t = time.perf_counter()
        chips = self.config.initiative and searched is not None
        offer = reading.question or (
            chips_after_search(self.schema, new, rewrite, searched, self.searcher)
            if chips
            else None
        )
        timings["initiative"] = _ms_since(t)

        new.last_query = None if query is None else query.tolist()
        note = "started over: tell me what you are looking for" if started_over else ""
        return TurnRecord(
            action=action,
            user_text=turn.text,  # cleaned and bounded, as searched
            caption=caption,
            **what_was_read(rewrite),
            reference_id=new.reference.item_id if new.reference else None,
            results=[] if searched is None else searched.results,
            new_search=reading.restart or not state.turns,
            dropped=reading.dropped,
            note="; ".join(n for n in (rewrite.note, searched.note if searched else note) if n),
            matching=None if searched is None else searched.matching,
            offer=offer,
            held_back=reading.held_back,
            text_words=words if searched is not None else [],
            text_missing=self._missing_words(words, searched),
        )

    def _missing_words(self, words: list[str], searched) -> list[str]:
        """The words searched as text that no item the search could return holds."""
        if not words or searched is None or self.searcher.text is None:
            return []
        text = self.searcher.text
        return [w for w in words if not text.search([w], allowed=searched.mask, limit=1)]

    def _text_words(self, caption: str, state: DialogueState) -> list[str]:
        """The caption's words beyond the filters that the shop's texts hold."""
        if self.searcher.text is None:
            return []
        return self.searcher.text.known(words_beyond_the_filters(caption, state.constraints))

    def _apply_action(self, state: DialogueState, turn: Turn) -> str:
        if turn.image is not None:  # its vector is encoded once the words are read
            state.reference = Reference(kind="upload", thumbnail_png=thumbnail(turn.image))
            return "upload"
        if turn.item is not None:
            state.reference = Reference(kind="item", item_id=turn.item)
            return "item"
        if turn.select is not None:
            state.reference = Reference(kind="item", item_id=turn.select)
            if turn.select not in state.liked:
                state.liked.append(turn.select)
            return "select"
        if turn.none_of_these:
            state.reject_shown()
            return "none_of_these"
        return "choose" if turn.keeps_request else "text"

    def _reference_vector(self, state: DialogueState) -> np.ndarray | None:
        if state.reference is None:
            return None
        if state.reference.kind == "upload":
            return np.asarray(state.reference.vector, np.float32)
        return self.index.vector(state.reference.item_id)

    def _reference_image(self, state: DialogueState) -> np.ndarray | None:
        ref = state.reference
        if ref is None:
            return None
        if ref.kind == "upload":
            return from_thumbnail(ref.thumbnail_png)
        if self.image_loader is None:
            raise TurnError(
                f"composition model {state.composer!r} needs reference images, which this app cannot load"
            )
        return self.image_loader(ref.item_id)

    def _query(self, state: DialogueState, caption: str) -> np.ndarray:
        """The composed query of the reference and the caption, with Rocchio feedback. A turn
        with neither ("none of these") keeps the last request as its anchor, so pressing it
        again pushes away from more rejected items without drifting from the request."""
        reference = self._reference_vector(state)
        if reference is None and not caption:
            anchor = state.anchor_query or state.last_query
            if anchor is None:
                raise TurnError("nothing to search for: describe what you are looking for")
            query = np.asarray(anchor, np.float32)
        else:
            composer = self.composer(state.composer)
            images = (
                [self._reference_image(state)]
                if composer.needs_images and reference is not None
                else None
            )
            query = composer.compose(
                None if reference is None else reference[None], [caption], images
            )[0]
            state.anchor_query = query.tolist()
        return self._rocchio(state, query)

    def _rocchio(self, state: DialogueState, query: np.ndarray) -> np.ndarray:
        c = self.config
        query = c.query_weight * query
        if c.liked_weight and state.liked:  # alpha-QE: liked items weigh by similarity^alpha
            liked = np.stack([self.index.vector(i) for i in state.liked])
            weights = np.maximum(liked @ normalize(query[None])[0], 0.0) ** c.liked_alpha
            if weights.sum() > 0:
                query = query + c.liked_weight * (weights @ liked) / weights.sum()
        if c.rejected_weight and state.rejected:
            query = query - c.rejected_weight * np.mean(
                [self.index.vector(i) for i in state.rejected], axis=0
            )
        return normalize(query[None])[0]

    def revise(
        self, state: DialogueState, caption: str, before: DialogueState | None = None
    ) -> tuple[DialogueState, list[Result]]:
        """Run the last turn again with the shopper's edit of its caption (undo, then redo), so
        the constraints that turn added are read from the edit instead. Undo goes back to the
        state before the revised turn, or to `before` where given."""
        if not state.turns:
            raise TurnError("there is no search to revise yet: describe what you are looking for")
        last, previous = state.turns[-1], state.undo()
        turn = Turn(text=caption, caption=caption, none_of_these=last.action == "none_of_these")
        if last.action == "select":
            turn.select = last.reference_id
        elif last.action == "item":
            turn.item = last.reference_id
        elif last.action == "upload":
            previous.reference = state.reference.model_copy(deep=True)
        return self.step(previous, turn, before=before)

    def other_colours(
        self, state: DialogueState, item_id: str, before: DialogueState | None = None
    ) -> tuple[DialogueState, list[Result]]:
        """A turn: the same style as `item_id` in other colours (see agent/other_colours.py);
        `before` as for `step`."""
        colours = self.colours
        return self._turn(
            state,
            before,
            lambda: colours.validate(item_id),
            lambda new, _timings, search: colours.apply(new, item_id, search),
        )

    def undo(self, state: DialogueState) -> DialogueState:
        return state.undo()

    def reset(self, state: DialogueState) -> DialogueState:
        return state.reset()


def _ms_since(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)
