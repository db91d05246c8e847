"""Is a message a new search or a refinement of the current one? Read from its words.

"start over" is a reset. A message that opens like a new request ("now show me ...", "I'm
looking for ...") and points at nothing shown ("it", "this", "same", "one") reads as a new
search; "in blue", "what about this in navy" and a pick with words are refinements. The agent
decides with the dialogue in view (agent/agent.py: a new kind of item, or "something").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from agent.language.phrases import tokenize
from retrieval.catalogues.schema import CatalogueSchema

_WORDS = json.loads((Path(__file__).parent / "words.json").read_text(encoding="utf-8"))
RESET_PHRASES = tuple(tuple(tokenize(p)) for p in _WORDS["reset_phrases"])
OPENERS = tuple(sorted((tuple(tokenize(p)) for p in _WORDS["new_search_openers"]), key=len)[::-1])
REFINEMENT_WORDS = frozenset(_WORDS["refinement_words"])
INDEFINITE_WORDS = frozenset(_WORDS["indefinite_words"])
OTHER_COLOURS = tuple(tuple(tokenize(p)) for p in _WORDS["other_colours_phrases"])
LEADING = {"ok", "okay", "hmm", "so", "and", "well", "right", "actually", "please", "now"}


@dataclass(frozen=True)
class Intent:
    reset: bool  # "start over": drop the whole search
    new_request: bool  # opens like a new request and points at nothing shown
    indefinite: bool  # asks for "something" / "anything" rather than for this item
    reset_words: frozenset[int] = frozenset()  # token positions of the reset phrase
    other_colours: bool = False  # asks for this item in its other colours
    other_colours_words: frozenset[int] = frozenset()  # token positions of that phrase


def _find(tokens: list[str], phrase: tuple[str, ...]) -> set[int]:
    n = len(phrase)
    return {
        j
        for i in range(len(tokens) - n + 1)
        if tuple(tokens[i : i + n]) == phrase
        for j in range(i, i + n)
    }


def _opens(tokens: list[str]) -> bool:
    for start in range(min(len(tokens), 3)):  # "ok so now show me", "hmm, i'm looking for"
        if any(tuple(tokens[start : start + len(o)]) == o for o in OPENERS):
            return True
        if tokens[start] not in LEADING:
            return False
    return False


def other_colours_words(tokens: list[str]) -> frozenset[int]:
    """Token positions of a request for the other colours ("this in other colours", "what
    colours does it come in"): words of the conversation, never a colour value ('Other')."""
    return frozenset(j for p in OTHER_COLOURS for j in _find(tokens, p))


def read_intent(text: str) -> Intent:
    tokens = tokenize(text)
    reset_words = frozenset(j for p in RESET_PHRASES for j in _find(tokens, p))
    colours_words = other_colours_words(tokens)
    refers = any(t in REFINEMENT_WORDS for i, t in enumerate(tokens) if i not in reset_words)
    return Intent(
        reset=bool(reset_words),
        new_request=bool(reset_words) or (_opens(tokens) and not refers),
        indefinite=any(t in INDEFINITE_WORDS for t in tokens) and "else" not in tokens,
        reset_words=reset_words,
        other_colours=bool(colours_words),
        other_colours_words=colours_words,
    )


CHANGE_WORDS = frozenset({"instead", "rather", "like"})  # "a bag instead": the pick, changed


def refers_to_shown(text: str) -> bool:
    """True when a message points at what is shown or picked ("this in red", "same but
    striped", "more like it", "a bag instead"): it changes that item rather than asking for
    another."""
    return any(t in REFINEMENT_WORDS or t in CHANGE_WORDS for t in tokenize(text))


ROLE_WORDS = _WORDS["role_words"]  # an attribute role -> how a reply names it


def what_to_say(schema: CatalogueSchema) -> str:
    """'the colour, the pattern or the kind of item': what this catalogue's rewriter reads."""
    roles = dict.fromkeys(schema.role(a) for a in schema.categorical)
    words = [ROLE_WORDS[r] for r in roles if r in ROLE_WORDS] or ["what you are looking for"]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
