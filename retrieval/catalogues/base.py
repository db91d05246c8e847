"""What every catalogue is: items with ids, attributes and captions, whose images load in batches."""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

# in a folder catalogue's name (folder:<root>[|<metadata>]), before the folder of its photos
# where they live apart from it
IMAGES_MARK = "|images:"
# the form of `CatalogueBase.fingerprint`'s document: a new form makes indexes built before
# out of date once (their catalogue is "read differently by this version")
FINGERPRINT_FORM = 2

if TYPE_CHECKING:
    from retrieval.catalogues.schema import CatalogueSchema


@dataclass(frozen=True)
class Item:
    """One catalogue product: a stable id, its attributes (may be empty), a caption, a title."""

    id: str
    attributes: dict[str, str] = field(default_factory=dict)
    caption: str = ""
    source: str = ""
    title: str = ""  # the shop's product name, where its metadata has one
    group: str = ""  # the product it is a colourway of (its parent's id), where the shop says
    description: str = ""  # the shop's description as plain text, where its export has one
    tags: str = ""  # the shop's own keywords ('linen, v-neck'), where its export has them

    def to_json(self) -> dict:
        out = {
            "id": self.id,
            "attributes": self.attributes,
            "caption": self.caption,
            "source": self.source,
        }
        if self.title:
            out["title"] = self.title
        if self.group:
            out["group"] = self.group
        if self.description:
            out["description"] = self.description
        if self.tags:
            out["tags"] = self.tags
        return out


_ITEM_FIELDS = operator.attrgetter(*(f.name for f in fields(Item)))


@dataclass(frozen=True)
class LoadedImage:
    """An item's decoded RGB image, or the reason it could not be read."""

    item: Item
    content_hash: str
    image: np.ndarray | None  # (H, W, 3) uint8
    error: str = ""


@runtime_checkable
class Catalogue(Protocol):
    """A sequence of items whose images load in batches, described by a schema."""

    name: str
    items: Sequence[Item]
    schema: CatalogueSchema

    def __len__(self) -> int: ...

    def load(self, indices: Sequence[int]) -> list[LoadedImage]: ...

    def fingerprint(self) -> str: ...

    def index_of(self, item_id: str) -> int: ...


class CatalogueBase:
    """Shared behaviour of the catalogues: length, batches, lookups by id, a fingerprint."""

    name: str
    items: Sequence[Item]
    schema: CatalogueSchema

    def load(self, indices: Sequence[int]) -> list[LoadedImage]:
        raise NotImplementedError

    def fingerprint(self) -> str:
        """Hash of the catalogue's identity: its name and every item's id, source, texts and
        attributes, as one JSON document (one encoder call: 3x faster than one per item)."""
        rows = list(map(_ITEM_FIELDS, self.items))  # every field of Item, in its order
        document = json.dumps([FINGERPRINT_FORM, self.name, rows], sort_keys=True)
        return hashlib.sha256(document.encode()).hexdigest()[:16]

    def batches(self, batch_size: int) -> Iterator[list[LoadedImage]]:
        for start in range(0, len(self.items), batch_size):
            yield self.load(range(start, min(start + batch_size, len(self.items))))

    def __len__(self) -> int:
        return len(self.items)

    def index_of(self, item_id: str) -> int:
        if not hasattr(self, "_positions"):
            self._positions = {item.id: i for i, item in enumerate(self.items)}
        if item_id not in self._positions:
            raise KeyError(f"no item {item_id!r} in catalogue {self.name!r}")
        return self._positions[item_id]

    def shape_features(self) -> np.ndarray | None:
        """(N, F) unit vectors of what items look like apart from colour, where the catalogue
        knows it (the rendered garments' grey pixels); None for photos."""
        return None


class Subset(CatalogueBase):
    """Some items of a catalogue, in its order: a split, or a benchmark's sample."""

    def __init__(self, catalogue: Catalogue, positions: Sequence[int], label: str):
        self.catalogue, self.label = catalogue, label
        self.positions = [int(p) for p in positions]
        self.items = [catalogue.items[p] for p in self.positions]
        self.name = f"{catalogue.name}[{label}]"
        self.schema = catalogue.schema

    def load(self, indices: Sequence[int]) -> list[LoadedImage]:
        return self.catalogue.load([self.positions[i] for i in indices])

    def fingerprint(self) -> str:
        return f"{self.catalogue.fingerprint()}-{self.label}-{len(self.items)}"

    def shape_features(self) -> np.ndarray | None:
        shapes = self.catalogue.shape_features()
        return None if shapes is None else shapes[self.positions]


def first_items(catalogue: Catalogue, count: int) -> Subset:
    """The first `count` items of a catalogue: a sample for a benchmark or a test."""
    return Subset(catalogue, range(min(count, len(catalogue))), f":{min(count, len(catalogue))}")
