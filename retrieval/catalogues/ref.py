"""A catalogue's identity: which catalogue, which metadata file, which part of it.

The one place that reads a catalogue from the command line ('fmnist-color',
'fmnist-color:train', 'fmnist-color:test:N', 'fmnist-color-variants:N' or a folder path, with
`--metadata`, `--images` and a part) and writes it back (the flags a user can paste). Stored as JSON in
index manifests; the plain names stored before ('fmnist-color-test',
'fmnist-color-variants-100000', 'folder:/shop|/shop/styles.csv[test]') are still read.
"""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, model_serializer

from retrieval.catalogues.base import IMAGES_MARK
from retrieval.paths import home, safe_name

if TYPE_CHECKING:
    from retrieval.catalogues.base import Catalogue

RENDERED, VARIANTS = "fmnist-color", "fmnist-color-variants"
PARTS = ("train", "test")  # the parts split by item id (retrieval/catalogues/split.py)
SPLIT_SIZES = {"train": 60_000, "test": 10_000}  # Fashion-MNIST's splits
FOLDER_PREFIX = "folder:"  # a folder catalogue's name: folder:<root>[|<metadata file>]


class CatalogueRef(BaseModel):
    """Which catalogue: a built-in spec or a folder, its metadata file, its part.

    Attributes:
        source: 'fmnist-color', 'fmnist-color:train', 'fmnist-color:test:N' (the first N),
            'fmnist-color-variants[:N]', or a folder of images.
        metadata: a folder's metadata file (default: the one found in the folder).
        part: 'train' or 'test' (split by item id), or None for the whole catalogue.
        sample: a program's own subset of it ('readable', ':1000'), which no command makes.
        images: a folder's photos where they live apart from its export (`--images`).
    """

    model_config = ConfigDict(frozen=True)

    source: str = RENDERED
    metadata: str | None = None
    part: str | None = None
    sample: str | None = None
    images: str | None = None

    @model_serializer(mode="wrap")
    def _stored(self, handler) -> dict:
        """As stored: without `images` where the photos are in the folder, so that refs
        stored before it existed read and compare the same."""
        data = handler(self)
        if isinstance(data, dict) and data.get("images") is None:
            data.pop("images", None)
        return data

    @classmethod
    def parse(
        cls,
        catalogue: str = RENDERED,
        metadata: str | Path | None = None,
        part: str | None = None,
        images: str | Path | None = None,
    ) -> CatalogueRef:
        """The ref of the command line's `--catalogue`, `--metadata`, part and `--images`."""
        if part is not None and part not in PARTS:
            raise ValueError(f"unknown split {part!r}: use train or test")
        if images and str(catalogue).startswith(RENDERED):
            raise ValueError(f"--images is for a folder catalogue, not {catalogue}")
        return cls(
            source=str(catalogue),
            metadata=str(metadata) if metadata else None,
            part=part,
            images=str(images) if images else None,
        )

    @classmethod
    def of(cls, catalogue: Catalogue) -> CatalogueRef:
        """The ref of an opened catalogue (a folder's by its resolved path and the metadata
        file it read; a rendered one with its split and count)."""
        from retrieval.catalogues.base import Subset
        from retrieval.catalogues.folder import FolderCatalogue
        from retrieval.catalogues.rendered import RenderedFashionMnist

        if isinstance(catalogue, Subset):
            whole = cls.of(catalogue.catalogue)
            if catalogue.label in PARTS and whole.part is None and whole.sample is None:
                return whole.model_copy(update={"part": catalogue.label})
            return whole.model_copy(update={"sample": catalogue.label})  # the last sample kept
        if isinstance(catalogue, FolderCatalogue):
            found = catalogue.metadata_path
            metadata = str(found.resolve()) if found else None
            apart = catalogue.images_root.resolve() != catalogue.root.resolve()
            images = str(catalogue.images_root.resolve()) if apart else None
            return cls(source=str(catalogue.root.resolve()), metadata=metadata, images=images)
        if isinstance(catalogue, RenderedFashionMnist):
            if len(catalogue.splits) > 1:
                return cls(source=f"{VARIANTS}:{catalogue.count}")
            whole = catalogue.count == len(catalogue.labels)
            count = "" if whole else f":{catalogue.count}"
            return cls(source=f"{RENDERED}:{catalogue.splits[0]}{count}")
        return cls.from_name(catalogue.name, len(catalogue))

    @classmethod
    def read(cls, stored: Any, count: int | None = None) -> CatalogueRef:
        """A ref as stored: its JSON, or a catalogue's name as written before refs (`count`,
        the items it held, tells 'fmnist-color:test' from its first N)."""
        if isinstance(stored, CatalogueRef):
            return stored
        if isinstance(stored, dict):
            return cls.model_validate(stored)
        return cls.from_name(str(stored), count)

    @classmethod
    def from_name(cls, name: str, count: int | None = None) -> CatalogueRef:
        """The ref of a catalogue's name ('fmnist-color-test', 'folder:/a|/a/m.csv[test]')."""
        base, _, labels = name.partition("[")
        label, sample = [*labels.removesuffix("]").split("]["), None][:2] if labels else [None] * 2
        part, sample = (label, sample) if label in PARTS else (None, label)
        if base.startswith(FOLDER_PREFIX):
            base, _, images = base.partition(IMAGES_MARK)
            root, _, metadata = base.removeprefix(FOLDER_PREFIX).partition("|")
            return cls(
                source=root,
                metadata=metadata or None,
                part=part,
                sample=sample,
                images=images or None,
            )
        if base.startswith(f"{VARIANTS}-"):
            source = f"{VARIANTS}:{base.removeprefix(f'{VARIANTS}-')}"
        elif base in (f"{RENDERED}-{s}" for s in PARTS):
            split = base.rsplit("-", 1)[1]
            whole = label is not None or count is None or count == SPLIT_SIZES[split]
            source = f"{RENDERED}:{split}" + ("" if whole else f":{count}")
        else:
            source = base
        return cls(source=source, part=part, sample=sample)

    @property
    def is_folder(self) -> bool:
        return not self.source.startswith(RENDERED)

    @property
    def name(self) -> str:
        """The opened catalogue's name (`Catalogue.name`), where the ref names one fully."""
        if self.is_folder:
            base = FOLDER_PREFIX + self.source + (f"|{self.metadata}" if self.metadata else "")
            base += f"{IMAGES_MARK}{self.images}" if self.images else ""
        elif self.source.startswith(VARIANTS):
            from retrieval.catalogues.rendered import parse_count

            count = self.source.partition(":")[2]
            base = f"{VARIANTS}-{parse_count(count) if count else sum(SPLIT_SIZES.values())}"
        else:
            base = f"{RENDERED}-{self.source.split(':')[1] if ':' in self.source else 'test'}"
        return base + "".join(f"[{label}]" for label in (self.part, self.sample) if label)

    @property
    def family(self) -> str:
        """The catalogue without its split, part or sample: 'fmnist-color' for any rendered
        one, else the folder's name ('folder:/shop|/shop/styles.csv'); composers are trained
        for a family."""
        if not self.is_folder:
            return RENDERED
        return self.model_copy(update={"part": None, "sample": None}).name

    @property
    def display_name(self) -> str:
        """What the shopper reads: a folder's own name ('shop'), else the catalogue's name."""
        return Path(self.source).name if self.is_folder else self.name

    def open(self, seed: int = 0) -> Catalogue:
        """The catalogue (or its part); a sample cannot be opened, only its catalogue."""
        if self.part is not None:
            from retrieval.catalogues.split import split

            return split(self.whole().open(seed), self.part)
        from retrieval.catalogues.folder import FolderCatalogue
        from retrieval.catalogues.rendered import (
            FmnistColorCatalogue,
            FmnistVariantsCatalogue,
            parse_count,
        )

        spec = self.source
        if spec.startswith(VARIANTS):
            count = spec.split(":", 1)[1] if ":" in spec else ""
            return FmnistVariantsCatalogue(parse_count(count) if count else None, seed=seed)
        if spec.startswith(RENDERED):
            split, _, count = (spec.split(":", 1)[1] if ":" in spec else "test").partition(":")
            limit = parse_count(count) if count else None  # 'fmnist-color:test:1000'
            return FmnistColorCatalogue(split=split, seed=seed, limit=limit)
        return FolderCatalogue(spec, self.metadata, self.images)

    def whole(self) -> CatalogueRef:
        """The whole catalogue: this one without its part or sample."""
        return self.model_copy(update={"part": None, "sample": None})

    def index_dir(self, model_id: str) -> Path:
        """The index folder of this catalogue and a model: a folder catalogue is named by its
        resolved path (and its metadata file, where one is named), whatever the working
        folder."""
        name = self.source
        if Path(self.source).is_dir():
            root = Path(self.source).resolve()
            where = str(root) + (f"|{Path(self.metadata).resolve()}" if self.metadata else "")
            where += f"{IMAGES_MARK}{Path(self.images).resolve()}" if self.images else ""
            name = f"{root.name}-{hashlib.sha256(where.encode()).hexdigest()[:8]}"
        name += f"-{self.part}" if self.part else ""
        return home() / "indexes" / safe_name(f"{name}-{model_id}")

    def command_line(self) -> str | None:
        """The flags a user pastes to name this catalogue ('--catalogue /shop --metadata
        /shop/styles.csv --part test'); None for a sample, which no command makes."""
        if self.sample is not None:
            return None
        words = [f"--catalogue {shlex.quote(self.source)}"]
        words += [f"--metadata {shlex.quote(self.metadata)}"] if self.metadata else []
        words += [f"--images {shlex.quote(self.images)}"] if self.images else []
        words += [f"--part {self.part}"] if self.part else []
        return " ".join(words)
