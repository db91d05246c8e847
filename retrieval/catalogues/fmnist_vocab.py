"""The fmnist-color vocabulary, read once from its schema and caption data files.

`schemas/fmnist-color.json` is the catalogue's schema (categories, colours, patterns and the
phrasings fashion-mini trains on); `data/fmnist-color-captions.json` holds what only the
rendered catalogue needs: the colour palette and the training caption templates.
"""

from __future__ import annotations

import json
from pathlib import Path

_HERE = Path(__file__).parent
SCHEMA_FILE = _HERE / "schemas" / "fmnist-color.json"
_schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
_captions = json.loads((_HERE / "data" / "fmnist-color-captions.json").read_text(encoding="utf-8"))

CATEGORIES: tuple[str, ...] = tuple(_schema["attributes"]["category"]["values"])
COLORS: tuple[str, ...] = tuple(_schema["attributes"]["color"]["values"])
PATTERNS: tuple[str, ...] = tuple(_schema["attributes"]["pattern"]["values"])
ATTRIBUTES = {"category": CATEGORIES, "color": COLORS, "pattern": PATTERNS}

# sRGB of each named colour; distinct enough that no two are confused by eye.
COLOR_RGB: dict[str, tuple[int, ...]] = {k: tuple(v) for k, v in _captions["palette"].items()}

# Phrasings used to train fashion-mini. Held-out synonyms (eval/encoder_eval.py) never appear here.
TRAIN_SYNONYMS: dict[str, dict[str, list[str]]] = {
    name: spec["synonyms"] for name, spec in _schema["attributes"].items()
}

# Templates for training captions; {pattern_adj} precedes the noun, {pattern_with} follows it.
CAPTION_TEMPLATES: tuple[str, ...] = tuple(_captions["caption_templates"])
# "with ..." forms of patterns, used after the noun ("a dress with stripes").
PATTERN_WITH: dict[str, list[str]] = _captions["pattern_with"]
# Nouns that stand in for a missing category ("a red striped item").
GENERIC_NOUNS: tuple[str, ...] = tuple(_captions["generic_nouns"])


def caption(category: str, color: str, pattern: str) -> str:
    """The canonical caption of an item, e.g. 'a blue striped dress'."""
    return f"a {color} {pattern} {category}"


def attribute_combinations() -> list[dict[str, str]]:
    """All 480 (category, colour, pattern) combinations, in a fixed order."""
    return [
        {"category": c, "color": k, "pattern": p}
        for c in CATEGORIES
        for k in COLORS
        for p in PATTERNS
    ]
