"""Values rejected by words said after them: "black is not for me", "white? no thanks"
(negation.json). The parser reads negators said before a value; this reads those after it,
up to the next value named or a few words on."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from agent.language.parser import Mention

NEGATION_FILE = Path(__file__).parent / "negation.json"


@lru_cache(maxsize=1)
def _data() -> tuple[frozenset[tuple[str, ...]], int]:
    data = json.loads(NEGATION_FILE.read_text(encoding="utf-8"))
    return frozenset(tuple(p.split()) for p in data["post_negators"]), data["reach"]


def _rejects(words: list[str]) -> bool:
    phrases, _ = _data()
    return any(
        tuple(words[i : i + len(p)]) == p for p in phrases for i in range(len(words) - len(p) + 1)
    )


def negated_after(tokens: list[str], mentions: list[Mention]) -> list[Mention]:
    """The mentions, a required one avoided where words after it reject it."""
    _, reach = _data()
    out = []
    for i, m in enumerate(mentions):
        following = [n.start for n in mentions[i + 1 :] if n.start >= m.end]
        stop = min([m.end + reach, *following])
        if m.polarity == "require" and _rejects(tokens[m.end : stop]):
            m = replace(m, polarity="avoid", keep=False)
        out.append(m)
    return out
