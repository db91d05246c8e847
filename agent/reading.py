"""Reading a turn: what its words, chip or edited caption ask for, whether it starts a new
search, which constraints it lets go or holds back, and the caption to search."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.constraints import merge_constraints
from agent.initiative import hold_back_ambiguous
from agent.language.intent import refers_to_shown, what_to_say
from agent.language.limits import held_by_texts
from agent.language.parser import FILLER, KEEPERS, NEGATORS, NON_ATTRIBUTE_WORDS
from agent.language.phrases import tokenize
from agent.rewriters import Rewrite, Rewriter, clean_message
from agent.state import Constraint, DialogueState, Offer
from agent.turn import Turn, TurnError
from retrieval.catalogues.schema import CatalogueSchema
from retrieval.index.text_index import TextIndex, words_of


@dataclass
class Reading:
    """What a turn asked for, as the agent searches it."""

    rewrite: Rewrite
    caption: str  # the caption searched
    restart: bool  # a new search: the earlier one's constraints were let go
    dropped: list[Constraint] = field(default_factory=list)  # the constraints let go
    held_back: list[Constraint] = field(default_factory=list)  # guesses held back as ambiguous
    question: Offer | None = None  # the question about them


class TurnReader:
    """Reads turns against a catalogue's schema with a rewriter; with `initiative`, a word
    that fits two values is held back and asked about instead of guessed."""

    def __init__(self, rewriter: Rewriter, schema: CatalogueSchema, initiative: bool = True):
        self.rewriter, self.schema, self.initiative = rewriter, schema, initiative

    def read_turn(self, before: DialogueState, new: DialogueState, turn: Turn) -> Reading:
        """Read `turn` into `new` (a fork of `before` with the turn's action applied): its
        constraints merged, the earlier search dropped where it starts a new one."""
        rewrite, restart, dropped, held_back, question = self._understand(new, turn)
        caption = _caption(before, turn, rewrite)
        return Reading(rewrite, caption, restart, dropped, held_back, question)

    def _understand(self, new: DialogueState, turn: Turn):
        """Read the turn into `new`: (rewrite, a new search?, constraints it let go, values
        held back as ambiguous, the question about them or None)."""
        rewrite = self._rewrite_words(turn)
        if turn.text.strip() and _unread(rewrite, turn.text):
            raise TurnError(f"I could not read that; try describing {what_to_say(self.schema)}")
        restart = self._starts_new_search(new, turn, rewrite)
        dropped = self._restart(new, keep_reference=turn.image is not None) if restart else []
        held_back, question = [], None
        if self.initiative:
            rewrite, held_back, question = hold_back_ambiguous(rewrite, new.constraints)
        if rewrite.negative_feedback and not turn.none_of_these:
            new.reject_shown()
        new.constraints = merge_constraints(new.constraints, rewrite.constraints, self.schema)
        return rewrite, restart, dropped, held_back, question

    def _rewrite_words(self, turn: Turn) -> Rewrite:
        """The rewrite of a turn's words; a chip's click is its constraint; a caption the
        shopper edited replaces the rewritten one (cleaned and bounded like a message)."""
        chosen = [turn.choose] if turn.choose is not None else []
        if turn.keeps_request:
            return Rewrite(caption="", constraints=chosen, rewriter="chip" if chosen else "filters")
        rewrite = self.rewriter.rewrite(turn.text) if turn.text.strip() else Rewrite(caption="")
        if turn.shortened:
            rewrite = rewrite.model_copy(update={"note": turn.shortened})
        if chosen:  # words and a chip: the chip's value is a constraint of the words' turn
            rewrite = rewrite.model_copy(update={"constraints": [*rewrite.constraints, *chosen]})
        if turn.caption is not None:
            edited, cut = clean_message(turn.caption)
            note = "; ".join(n for n in (rewrite.note, cut and f"the caption: {cut}") if n)
            rewrite = rewrite.model_copy(update={"caption": edited, "note": note})
        return rewrite

    def _starts_new_search(self, state: DialogueState, turn: Turn, rewrite: Rewrite) -> bool:
        """True for "start over", and for a request for something else: a message that opens
        like a new request, with no pick, asking for another kind of item, for "something",
        or for attributes the current search does not constrain. "in blue" is a refinement."""
        if rewrite.reset:
            return True
        if turn.image is not None:  # an upload: a search from the photo (its words refine it)
            return bool(state.constraints or state.liked or state.rejected)
        if turn.select and self._asks_another_kind(state, turn, rewrite):
            return True
        picked = turn.select or turn.item or turn.image is not None or turn.none_of_these
        if (
            picked
            or turn.keeps_request
            or not rewrite.new_search
            or not (state.constraints or state.reference)
        ):
            return False
        asked = [c for c in rewrite.constraints if c.polarity == "require" and not c.numeric]
        if not asked and any(c.numeric for c in rewrite.constraints):
            return False  # "show me the cheapest ones": a price refines the search
        active = {(c.attribute, c.value) for c in state.constraints if c.polarity == "require"}
        family = self.schema.family(self.schema.kind) if self.schema.kind else set()
        new_kind = any(
            c.attribute in family and (c.attribute, c.value) not in active for c in asked
        )
        overlap = {c.attribute for c in asked} & {a for a, _ in active}
        return new_kind or rewrite.indefinite or not overlap

    def _asks_another_kind(self, state: DialogueState, turn: Turn, rewrite: Rewrite) -> bool:
        """True when words sent with a pick ask for another kind of item than the pick's, as a
        request of its own (with another value, or opening like one: "striped t-shirt for
        men", "I'm looking for a bag" after a dress), and do not point at the pick ("this as a
        t-shirt", "same but a skirt", "a bag instead"): a new search, not a refinement."""
        pick = next((r for r in state.last_results if r.id == turn.select), None)
        family = self.schema.family(self.schema.kind) if self.schema.kind else set()
        if pick is None or not family or refers_to_shown(turn.text):
            return False
        asked = [c for c in rewrite.constraints if c.polarity == "require"]
        other_kind = any(
            c.attribute in family and pick.attributes.get(c.attribute, c.value) != c.value
            for c in asked
        )
        whole_request = rewrite.new_search or any(c.attribute not in family for c in asked)
        return other_kind and whole_request

    @staticmethod
    def _restart(state: DialogueState, keep_reference: bool = False) -> list[Constraint]:
        """Drop the earlier search from `state` (not its turns or undo history; the reference
        too unless `keep_reference`: an upload's); returns the constraints it had."""
        dropped = list(state.constraints)
        state.constraints = []
        state.reference = state.reference if keep_reference else None
        state.liked, state.rejected, state.shown, state.last_query = [], [], [], None
        state.anchor_query = None
        return dropped


def _caption(before: DialogueState, turn: Turn, rewrite: Rewrite) -> str:
    """The caption searched: the rewrite's (else the cleaned message); a chip or filter with
    no words keeps the request's, and a chip's value joins it."""
    caption = rewrite.caption or ("" if rewrite.reset else turn.text)
    priced = [c.value for c in rewrite.constraints if c.numeric]
    if not rewrite.caption and (rewrite.limits or rewrite.constraints):
        # "under 30", "no white please", "is it in stock?": no words to search (an encoder
        # reads "no white" as white); the request as it stands, else the price words (the
        # filter doing the work), else the message
        fallback = "" if rewrite.limits else (", ".join(priced) or turn.text)
        caption = before.request_caption() or fallback
    if turn.keeps_request:
        caption = before.request_caption()
    if turn.choose is not None and turn.choose.value not in caption.split(", "):
        caption = ", ".join(w for w in (caption, turn.choose.value) if w)
    return caption


def searched_as_text(texts: TextIndex | None, text: str, reading: Reading) -> tuple[Rewrite, str]:
    """The reading's rewrite and caption, where a limit whose words the shop's titles hold
    ("plus size") is searched as text (`texts`: the shop's text index, None where it has
    none)."""
    rewrite, caption = reading.rewrite, reading.caption
    if texts is None or not rewrite.limits:
        return rewrite, caption
    held = held_by_texts(text, rewrite.limits, texts.known)
    if not held:
        return rewrite, caption
    limits = [t for t in rewrite.limits if t not in held]
    said = [phrase for phrases in held.values() for phrase in phrases]
    caption = ", ".join(w for w in [caption, *said] if w)
    return rewrite.model_copy(update={"limits": limits}), caption


def what_was_read(rewrite: Rewrite) -> dict:
    """The rewrite's part of a turn record."""
    return {
        "constraints": rewrite.constraints,
        "rewriter": rewrite.rewriter,
        "fallback_reason": rewrite.fallback_reason,
        "sources": rewrite.sources,
        "overruled": rewrite.overruled,
        "limits": rewrite.limits,
    }


def words_beyond_the_filters(caption: str, constraints: list[Constraint]) -> list[str]:
    """The caption's words that no constraint holds, less function words, digits and single
    letters: what the shop's own texts are searched for ("nike" in "Sports Shoes, nike")."""
    held = {w for c in constraints for w in words_of(c.value)}
    skip = FILLER | KEEPERS | NEGATORS | NON_ATTRIBUTE_WORDS | held
    return [w for w in words_of(caption) if w not in skip and len(w) > 1 and not w.isdigit()]


def _unread(rewrite: Rewrite, text: str) -> bool:
    """True when the rewriter found nothing it could use in a message with no word it reads
    (another script, emoji only)."""
    said = rewrite.caption or rewrite.constraints or rewrite.negative_feedback or rewrite.reset
    return not said and not tokenize(text)
