"""Real shoppers' words with conservative labels: Fashion IQ validation captions that name one
plain colour or pattern of fmnist-color's vocabulary, scored against fmnist-color's schema.

Fashion IQ (CVPR 2021, CDLA licence) is not shipped; its captions are read from
../shared/data/fashion-iq/captions/cap.{dress,shirt,toptee}.val.json where present.

The labelling rules, written before any rewriter was scored on the result:

1. Words: the caption is lower-cased and split into words (letters, digits, ' and -).
2. Vocabulary: the twelve colour values of fmnist-color (gray counts as grey) and its
   pattern values in their plain forms: stripe/stripes/striped, dot/dots/dotted,
   check/checks/checked/checkered, plain. No synonyms (no navy, plaid, polka alone).
3. Exactly one vocabulary word occurs, once: "blue and white", "red with black trim" are left
   out (which colour is the item's?).
4. Left out if any word makes the colour or pattern a detail or a comparison: light, dark,
   lighter, darker, pale, bright, brighter, deep, neon, pastel, hot, baby, navy, royal, sky,
   multi, colors, colours, colored, coloured (in "multi-colored"), than, instead, rather,
   print, printed, graphic, logo, letters, writing, words, design, trim, collar, sleeves,
   straps, skirt, top, bottom, belt, buttons, flowers, floral, lace, accents, detail, details,
   background, designs, pattern, patterns, text; or another colour name (tan, maroon, gold, silver,
   cream, khaki, olive, teal, burgundy, turquoise, magenta, lavender, violet, coral, peach,
   ivory, mint, nude).
5. Left out if any other negation word occurs anywhere (n't, without, never, none, nor,
   except) unless it is one of the negations of rule 6.
6. Polarity: "avoid" if the word directly follows not, no or non ("not red", "no
   stripes"); otherwise "require". Any other not/no/non/less in the caption: left out.
7. Colours: the word must read as the item's colour: it is the first word or follows one of
   is, are, in, all, solid, more, a, an, and ("is red", "solid black", "in green").
   Patterns may also follow has, with, have ("has stripes").
8. Duplicates (the same caption text) are kept once; the 200 kept are the first by the
   SHA-1 of their text (a fixed mix of the three categories).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "fashion-iq"
CATEGORIES = ("dress", "shirt", "toptee")
COLOURS = {
    c: c
    for c in (
        [
            "black",
            "white",
            "grey",
            "red",
            "pink",
            "orange",
            "yellow",
            "green",
            "blue",
            "purple",
            "brown",
            "beige",
        ]
    )
} | {"gray": "grey"}
PATTERNS = {
    **dict.fromkeys(("stripe", "stripes", "striped"), "striped"),
    **dict.fromkeys(("dot", "dots", "dotted"), "dotted"),
    **dict.fromkeys(("check", "checks", "checked", "checkered"), "checked"),
    "plain": "plain",
}
DETAIL_WORDS = frozenset(
    [
        "light",
        "dark",
        "lighter",
        "darker",
        "pale",
        "bright",
        "brighter",
        "deep",
        "neon",
        "pastel",
        "hot",
        "baby",
        "navy",
        "royal",
        "sky",
        "multi",
        "colors",
        "colours",
        "colored",
        "coloured",
        "than",
        "instead",
        "rather",
        "print",
        "printed",
        "graphic",
        "logo",
        "letters",
        "writing",
        "words",
        "design",
        "trim",
        "collar",
        "sleeves",
        "straps",
        "skirt",
        "top",
        "bottom",
        "belt",
        "buttons",
        "flowers",
        "floral",
        "lace",
        "accents",
        "detail",
        "details",
        "background",
        "designs",
        "pattern",
        "patterns",
        "tan",
        "maroon",
        "gold",
        "silver",
        "cream",
        "khaki",
        "olive",
        "teal",
        "burgundy",
        "turquoise",
        "magenta",
        "lavender",
        "violet",
        "coral",
        "peach",
        "ivory",
        "mint",
        "nude",
    ]
)
OTHER_NEGATIONS = frozenset({"without", "never", "none", "nor", "except", "less"})
NEGATORS = frozenset({"not", "no", "non"})
COLOUR_CONTEXT = frozenset({"is", "are", "in", "all", "solid", "more", "a", "an", "and"})
PATTERN_CONTEXT = COLOUR_CONTEXT | {"has", "with", "have"}
WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
N_CAPTIONS = 200


def label(caption: str) -> tuple[str, str, str] | None:
    """(attribute, value, polarity) of a caption by the rules above, or None (left out)."""
    words = WORD.findall(caption.lower())
    found = [(i, w) for i, w in enumerate(words) if w in COLOURS or w in PATTERNS]
    if len(found) != 1 or DETAIL_WORDS & set(words):
        return None
    i, word = found[0]
    before = words[i - 1] if i else ""
    negated = before in NEGATORS
    if (OTHER_NEGATIONS & set(words)) or any(w.endswith("n't") for w in words):
        return None
    if not negated and any(w in NEGATORS for w in words):
        return None  # a negation elsewhere: of what?
    polarity = "avoid" if negated else "require"
    if word in COLOURS:
        if not (negated or i == 0 or before in COLOUR_CONTEXT):
            return None
        return ("color", COLOURS[word], polarity)
    if not (negated or i == 0 or before in PATTERN_CONTEXT):
        return None
    return ("pattern", PATTERNS[word], polarity)


def captions(root: Path = SHARED) -> list[str]:
    """Every validation caption, in file order (categories as in CATEGORIES)."""
    out = []
    for category in CATEGORIES:
        path = root / "captions" / f"cap.{category}.val.json"
        out += [c.strip() for pair in json.loads(path.read_text()) for c in pair["captions"]]
    return out


def labelled(root: Path = SHARED, n: int = N_CAPTIONS) -> list[tuple[str, tuple[str, str, str]]]:
    """n (caption, intended constraint) pairs, or [] where the captions are absent."""
    if not (root / "captions").exists():
        return []
    kept = {}
    for caption in captions(root):
        found = label(caption)
        if found and caption.lower() not in kept:
            kept[caption.lower()] = (caption, found)
    ordered = sorted(kept.values(), key=lambda pair: hashlib.sha1(pair[0].encode()).hexdigest())
    return ordered[:n]
