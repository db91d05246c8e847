"""What a catalogue cannot answer: a message about prices where it has none, sizes, stock,
delivery, returns, brands, ratings (limits.json). Such words get a plain reply naming the
limit, and are taken out of the message so that they are never searched as quoted text."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from agent.language.prices import phrases_pattern, price_attribute

if TYPE_CHECKING:
    from retrieval.catalogues.schema import CatalogueSchema

LIMITS_FILE = Path(__file__).parent / "limits.json"


@lru_cache(maxsize=1)
def _data() -> dict:
    return json.loads(LIMITS_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern]:
    topics = _data()["topics"]
    patterns = {}
    for name, topic in topics.items():
        after = topic.get("not_followed_by")
        picture = rf"(?![\s-]+{phrases_pattern(after)})" if after else ""
        patterns[name] = re.compile(phrases_pattern(topic["phrases"]) + picture, re.IGNORECASE)
    return patterns


def answerable(schema: CatalogueSchema, topic: str) -> bool:
    """Whether the catalogue has an attribute for the topic (by role, else by column name)."""
    if topic == "price":
        return price_attribute(schema) is not None
    spec = _data()["topics"][topic]
    return any(
        a.role in spec["roles"] or any(w in name.lower() for w in spec["columns"])
        for name, a in schema.attributes.items()
    )


def read_limits(text: str, schema: CatalogueSchema) -> tuple[list[str], str]:
    """The topics a message asks about that the catalogue cannot answer, and the message
    without their words."""
    topics, rest = [], text
    for topic, pattern in _patterns().items():
        if answerable(schema, topic) or not pattern.search(rest):
            continue
        topics.append(topic)
        rest = pattern.sub(" ", rest)
    return topics, " ".join(rest.split())


def held_by_texts(text: str, topics: list[str], known) -> dict[str, list[str]]:
    """Of the limits read from a message, those whose words a shop's own texts hold (only
    topics whose words titles may hold: "plus size", "designer brand"), with the phrases
    said: searched as text, they are no limit. `known(words)` names the words the texts
    hold (TextIndex.known)."""
    held = {}
    for topic in topics:
        if not _data()["topics"][topic].get("titles_may_hold"):
            continue
        said = [m.group(0) for m in _patterns()[topic].finditer(text)]
        phrases = list(dict.fromkeys(" ".join(re.findall(r"[a-z0-9]+", p.lower())) for p in said))
        if phrases and known(phrases) == phrases:  # each phrase as a whole ("extra large")
            held[topic] = said
    return held


def limit_sentence(topic: str) -> str:
    """What the reply says of a topic the catalogue cannot answer."""
    return _data()["topics"][topic]["says"]


def filter_intro() -> str:
    return _data()["filter_intro"]
