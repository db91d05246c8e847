"""The fmnist-color attribute vocabulary, colour palette and caption phrasings."""

from __future__ import annotations

CATEGORIES = (
    "t-shirt",
    "trousers",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)
COLORS = (
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
)
PATTERNS = ("plain", "striped", "dotted", "checked")
ATTRIBUTES = {"category": CATEGORIES, "color": COLORS, "pattern": PATTERNS}

# sRGB of each named colour; distinct enough that no two are confused by eye.
COLOR_RGB = {
    "black": (28, 28, 30),
    "white": (250, 250, 248),
    "grey": (128, 128, 132),
    "red": (200, 24, 30),
    "pink": (244, 140, 186),
    "orange": (245, 128, 20),
    "yellow": (248, 216, 36),
    "green": (34, 150, 52),
    "blue": (30, 70, 200),
    "purple": (120, 40, 160),
    "brown": (110, 64, 30),
    "beige": (222, 200, 160),
}

# Phrasings used to train fashion-mini. Held-out synonyms (eval/encoder_eval.py) never appear here.
TRAIN_SYNONYMS = {
    "category": {
        "t-shirt": ["t-shirt", "tee", "t shirt", "tshirt", "short-sleeved top"],
        "trousers": ["trousers", "pants", "chinos", "joggers"],
        "pullover": ["pullover", "sweater", "knit sweater", "sweatshirt"],
        "dress": ["dress", "frock", "maxi dress", "mini dress"],
        "coat": ["coat", "jacket", "trench coat", "anorak"],
        "sandal": ["sandal", "sandals", "strappy sandal"],
        "shirt": ["shirt", "blouse", "dress shirt", "collared shirt"],
        "sneaker": ["sneaker", "trainers", "athletic shoe", "sports shoe"],
        "bag": ["bag", "handbag", "shoulder bag", "satchel"],
        "ankle boot": ["ankle boot", "boots", "boot", "ankle boots"],
    },
    "color": {
        "black": ["black", "onyx", "midnight black", "raven"],
        "white": ["white", "pearl white", "bright white", "chalk white"],
        "grey": ["grey", "gray", "slate", "ash grey", "graphite", "steel grey"],
        "red": ["red", "cherry", "ruby", "maroon", "burgundy", "tomato red", "brick red"],
        "pink": ["pink", "rose", "blush", "salmon pink", "bubblegum", "magenta"],
        "orange": ["orange", "tangerine", "pumpkin", "apricot", "marigold", "burnt orange"],
        "yellow": ["yellow", "lemon", "canary", "sunflower", "butter yellow"],
        "green": ["green", "emerald", "olive green", "mint green", "jade", "sage"],
        "blue": ["blue", "cobalt", "royal blue", "azure", "sapphire", "denim blue"],
        "purple": ["purple", "violet", "plum", "mauve", "grape", "amethyst"],
        "brown": ["brown", "chocolate", "mocha", "caramel", "walnut", "espresso"],
        "beige": ["beige", "cream", "nude", "oatmeal", "camel", "taupe"],
    },
    "pattern": {
        "plain": ["plain", "solid", "single-colour", "minimal"],
        "striped": ["striped", "stripy", "banded"],
        "dotted": ["dotted", "spotted", "dotty", "spotty"],
        "checked": ["checked", "checkered", "chequered", "windowpane"],
    },
}

# Templates for training captions; {pattern_adj} precedes the noun, {pattern_with} follows it.
CAPTION_TEMPLATES = (
    "a {color} {pattern_adj} {category}",
    "{color} {pattern_adj} {category}",
    "a {category} in {color}, {pattern_adj}",
    "a {pattern_adj} {category} in {color}",
    "a photo of a {color} {pattern_adj} {category}",
    "{category}, {color}, {pattern_adj}",
)


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


# "with ..." forms of patterns, used after the noun ("a dress with stripes").
PATTERN_WITH = {
    "plain": [],
    "striped": ["with stripes"],
    "dotted": ["with dots", "with spots"],
    "checked": ["with checks"],
}

# Nouns that stand in for a missing category ("a red striped item").
GENERIC_NOUNS = ("item", "garment", "piece")
