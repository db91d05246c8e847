"""The deterministic train / test split of a catalogue, by item id (stated in model cards).

An item is in the test part when sha1(its id) modulo 5 is 0: about a fifth of any catalogue,
the same items whatever the order of the metadata or the other items it holds. An item of a
product group (a colourway of a product with several) is split by its group's id instead, so
that every colourway of a product is on the same side.
"""

from __future__ import annotations

import hashlib

from retrieval.catalogues.base import Catalogue, Item, Subset

SPLIT_RULE = "test iff int(sha1(group or id).hexdigest(), 16) % 5 == 0"
TEST_SHARE = 5  # one item in five


def is_test(item_id: str) -> bool:
    return int(hashlib.sha1(str(item_id).encode()).hexdigest(), 16) % TEST_SHARE == 0


def in_test(item: Item) -> bool:
    """True when the item is in the test part: its group's id decides, else its own."""
    return is_test(item.group or item.id)


def split(catalogue: Catalogue, part: str) -> Subset:
    """The 'train' or 'test' part of a catalogue."""
    if part not in ("train", "test"):
        raise ValueError(f"unknown split {part!r}: use train or test")
    wanted = part == "test"
    positions = [i for i, item in enumerate(catalogue.items) if in_test(item) == wanted]
    return Subset(catalogue, positions, part)
