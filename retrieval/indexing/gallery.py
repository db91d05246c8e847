"""A gallery: a catalogue, the encoder and its index, and the items' attribute table, opened
once (the index built first when it is missing) and shared by the agent, the instance
search, the app's filters and the replay."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from retrieval.catalogues import Catalogue, CatalogueRef, Item
from retrieval.catalogues.columns import cell_values
from retrieval.catalogues.schema import CatalogueSchema
from retrieval.encoders import DEFAULT_MODEL, Encoder, load_encoder
from retrieval.index.search import SearchIndex
from retrieval.index.store import (
    INDEX_FILE,
    ITEMS_FILE,
    MANIFEST_FILE,
    SCRATCH_VECTORS,
    VECTORS_FILE,
)
from retrieval.index.text_index import TextIndex
from retrieval.indexing.embedding_cache import EmbeddingCache
from retrieval.indexing.freshness import check_current
from retrieval.indexing.local import build_index

log = logging.getLogger(__name__)
ENGINES = ("local", "ray")


class Condition(Protocol):
    """A requirement or avoidance of one attribute value (agent.state.Constraint)."""

    attribute: str
    value: str
    polarity: str  # "require" or "avoid"


class AttributeTable:
    """The items' attribute values as integer codes: per attribute, its sorted values ('' for
    an item without one) and each item's code into them. An attribute whose cells list
    several values ('Red|Blue', schema `multi_valued`) keeps an (N, V) membership matrix
    instead, so that every value of a cell matches and counts (columns.cell_values)."""

    def __init__(self, items: Sequence[Item], attributes: Iterable[str] | Mapping):
        self.size = len(items)
        self.values: dict[str, np.ndarray] = {}  # attribute -> (V,) sorted values
        self.codes: dict[str, np.ndarray] = {}  # attribute -> (N,) int codes into values
        self.members: dict[str, np.ndarray] = {}  # multi-valued attribute -> (N, V) bool
        specs = attributes if isinstance(attributes, Mapping) else {}
        for name in attributes:
            column = [item.attributes.get(name, "") for item in items]
            if getattr(specs.get(name), "multi_valued", False):
                self._add_multi_valued(name, column)
                continue
            self.values[name], self.codes[name] = np.unique(
                np.array(column, dtype=str), return_inverse=True
            )

    def _add_multi_valued(self, name: str, column: list[str]) -> None:
        cells = [cell_values(c) for c in column]
        self.values[name] = np.array(sorted({v for vs in cells for v in vs}), dtype=str)
        members = np.zeros((self.size, len(self.values[name])), bool)  # (N, V)
        for row, values in enumerate(cells):
            members[row, np.searchsorted(self.values[name], values)] = True
        self.members[name] = members

    def code(self, attribute: str, value: str) -> int:
        """The code of `value` in `attribute`'s column; -1 when no item has it."""
        values = self.values[attribute]
        at = int(np.searchsorted(values, value))
        return at if at < len(values) and values[at] == value else -1

    def has(self, attribute: str, value: str) -> np.ndarray:
        """(N,) bool: the items whose `attribute` holds `value` (alone or among several)."""
        code = self.code(attribute, value)
        if attribute in self.members:
            return self.members[attribute][:, code] if code >= 0 else np.zeros(self.size, bool)
        return self.codes[attribute] == code

    def mask(self, constraints: Iterable[Condition]) -> np.ndarray:
        """(N,) bool: the items that have every required value and no avoided one;
        constraints on attributes outside the table are ignored."""
        allowed = np.ones(self.size, bool)
        for c in constraints:
            if c.attribute not in self.values:
                continue
            same = self.has(c.attribute, c.value)
            allowed &= same if c.polarity == "require" else ~same
        return allowed

    def counts(self, attribute: str, constraints: Iterable[Condition] = ()) -> dict[str, int]:
        """{value: items}: how many of the items `mask(constraints)` allows have each value of
        `attribute` (values no allowed item has left out, '' included)."""
        return self.tally(attribute, self.mask(constraints))

    def tally(self, attribute: str, allowed: np.ndarray | None = None) -> dict[str, int]:
        """{value: items} of `attribute` among the `allowed` items ((N,) bool; None: all),
        each value of a several-valued cell counted; values no allowed item has left out."""
        values = self.values[attribute]
        if attribute in self.members:
            members = self.members[attribute]
            tally = (members if allowed is None else members[allowed]).sum(axis=0)
        else:
            codes = self.codes[attribute] if allowed is None else self.codes[attribute][allowed]
            tally = np.bincount(codes, minlength=len(values))
        return {str(v): int(n) for v, n in zip(values, tally) if n}


@dataclass
class Gallery:
    """What a catalogue is searched with: the encoder, the index and its folder, the
    catalogue (opened from its ref on first use), its schema and the attribute table over the
    indexed items. `open_gallery` opens one from a catalogue ref; `Gallery.in_memory` makes
    one of parts already in memory."""

    encoder: Encoder
    index: SearchIndex
    ref: CatalogueRef | None = None  # None: made in memory (no catalogue to open)
    folder: Path | None = None  # the index's folder; None: made in memory

    @classmethod
    def in_memory(
        cls,
        encoder: Encoder,
        index: SearchIndex,
        schema: CatalogueSchema | None = None,
        catalogue: Catalogue | None = None,
    ) -> Gallery:
        """The gallery of an encoder and an index already in memory (tests, a catalogue
        opened by hand): no ref and no folder. Its schema is `schema`, else the catalogue's,
        else the one the index holds; its catalogue, where given, is `catalogue`."""
        gallery = cls(encoder, index)
        if catalogue is not None:
            gallery.catalogue = catalogue
        gallery.schema = schema or (catalogue.schema if catalogue else index.schema)
        return gallery

    @cached_property
    def catalogue(self) -> Catalogue:
        if self.ref is None:
            raise ValueError(
                "this gallery was made in memory without a catalogue: "
                "give Gallery.in_memory the catalogue"
            )
        return self.ref.open()

    @cached_property
    def schema(self) -> CatalogueSchema:
        """The catalogue's schema: its attributes, values and synonyms."""
        return self.catalogue.schema

    @cached_property
    def text(self) -> TextIndex | None:
        """The lexical index of the indexed items' own words (titles, descriptions, tags);
        None where no item has any."""
        return TextIndex.from_items(self.index.items)

    @property
    def shop_words(self):
        """`known(words)`: which of the words the items' own texts hold (the rewriter keeps
        them as words to search); None where the items have no texts."""
        return self.text.known if self.text is not None else None

    @cached_property
    def table(self) -> AttributeTable:
        """The indexed items' attribute table (every attribute of the schema): the one table
        of attribute columns the search, the app's filters and the replay read."""
        return AttributeTable(self.index.items, self.schema.attributes)


def build_and_save(
    catalogue: CatalogueRef,
    encoder: Encoder,
    out: Path,
    factory: str = "Flat",
    use_cache: bool = True,
    batch_size: int | None = None,
    progress: bool = True,
    engine: str = "local",
) -> SearchIndex:
    """Build the index of a catalogue into `out`.

    Vectors stream to a file in `out` as they are encoded (bounded memory at any size);
    `engine="ray"` embeds on a Ray cluster (RAY_ADDRESS, else a local one) instead.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    out = Path(out)
    with building(out):
        if engine == "ray":
            from retrieval.indexing.ray_engine import build_index_ray, remove_shards

            index = build_index_ray(
                catalogue.open, encoder, out, factory, batch_size=batch_size, use_cache=use_cache
            )
        else:
            cache = EmbeddingCache() if use_cache else None
            try:
                index = build_index(
                    catalogue.open(),
                    encoder,
                    factory,
                    cache,
                    batch_size,
                    progress=progress,
                    vectors_path=out / SCRATCH_VECTORS,
                )
            finally:
                if cache is not None:
                    cache.close()
        index.save(out)
        if engine == "ray":
            remove_shards(out)
    for skipped in index.manifest.skipped:
        log.warning("skipped %s: %s", skipped.source, skipped.reason)
    return index


_held = threading.local()  # the index folders this thread holds the build lock of


@contextlib.contextmanager
def building(out: Path) -> Iterator[None]:
    """Held while an index is built into `out`: another process or thread building the same
    folder waits for this one (they would write the same scratch files), on a lock file
    beside it (`.<folder>.lock`; POSIX only: elsewhere nothing is locked). Re-entrant within
    a thread."""
    try:
        import fcntl
    except ImportError:  # Windows
        fcntl = None
    held = _held.__dict__.setdefault("folders", set())
    key = str(Path(out).resolve())
    if fcntl is None or key in held:
        yield
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f".{out.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
            fcntl.flock(lock, fcntl.LOCK_UN)


def open_gallery(
    catalogue: CatalogueRef,
    model_id: str = DEFAULT_MODEL,
    folder: str | Path | None = None,
    factory: str = "Flat",
    mmap: bool = False,
) -> Gallery:
    """The gallery of `catalogue` with model `model_id`, its index in `folder` (default: the
    catalogue's own); builds and saves the index if absent. With `mmap`, a saved index is
    memory-mapped where FAISS supports it."""
    if folder:
        _check_index_folder(Path(folder), catalogue, model_id)
    encoder = load_encoder(model_id)
    folder = Path(folder) if folder else catalogue.index_dir(model_id)
    if not (folder / MANIFEST_FILE).exists():
        with building(folder):
            if not (folder / MANIFEST_FILE).exists():  # or another process built it meanwhile
                log.info(
                    "building the index of %s with %s in %s", catalogue.source, model_id, folder
                )
                index = build_and_save(catalogue, encoder, folder, factory)
                return Gallery(encoder, index, catalogue, folder)
    index = SearchIndex.load(folder, encoder, mmap=mmap)
    _check_built_from(folder, catalogue, index.manifest.catalogue)
    checked = check_current(index, folder)  # never answer from photos that are gone or changed
    gallery = Gallery(encoder, index, catalogue, folder)
    if checked is not None and _same_folder(catalogue, index.manifest.catalogue):
        gallery.catalogue = checked  # opened once: the check's copy is the gallery's
    return gallery


def _check_index_folder(folder: Path, catalogue: CatalogueRef, model_id: str) -> None:
    """ValueError for an `--index` that is a file, the catalogue's own folder (an index
    built there would mix its files with the photos and the metadata), or an index whose
    manifest is gone (built over, its files would be lost without a word of why)."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(
            f"--index {folder} is a file: give an index folder "
            "(`circhat index build --out <folder>` writes one)"
        )
    own = catalogue.is_folder and folder.resolve() == Path(catalogue.source).resolve()
    if own and not (folder / MANIFEST_FILE).exists():
        raise ValueError(
            f"--index {folder} is the catalogue's own folder: give the index a folder of its "
            "own, or leave --index out"
        )
    left = [name for name in (INDEX_FILE, ITEMS_FILE, VECTORS_FILE) if (folder / name).exists()]
    if left and not (folder / MANIFEST_FILE).exists():
        metadata = f" --metadata {catalogue.metadata}" if catalogue.metadata else ""
        raise ValueError(
            f"{folder / MANIFEST_FILE} is missing (the index's {', '.join(left)} are there): "
            f"rebuild the index with `circhat index build --out {folder} --catalogue "
            f"{catalogue.source}{metadata} --model {model_id}`"
        )


def _check_built_from(folder: Path, asked: CatalogueRef, built_from: CatalogueRef) -> None:
    """ValueError when the index at `folder` was built from another folder catalogue than the
    one asked for: its answers would be the other catalogue's photos."""
    if not (asked.is_folder and built_from.is_folder):
        return
    asked_source, built_source = Path(asked.source).resolve(), Path(built_from.source).resolve()
    if asked_source != built_source:
        raise ValueError(
            f"index {folder} was built from the catalogue {built_source}, not {asked_source}: "
            f"give --catalogue {built_source}, or build this catalogue's index with "
            f"`circhat index build --catalogue {asked_source} --out <folder>`"
        )


def _same_folder(asked: CatalogueRef, built_from: CatalogueRef) -> bool:
    """Whether opening `asked` gives the catalogue `built_from` names (the manifest's ref:
    resolved paths, the metadata file the build read)."""
    if not asked.is_folder or asked.part != built_from.part or asked.sample is not None:
        return False
    if asked.metadata is None or built_from.metadata is None:
        return False  # a folder's default metadata file is found when it is opened
    same_source = Path(asked.source).resolve() == Path(built_from.source).resolve()
    return same_source and Path(asked.metadata).resolve() == Path(built_from.metadata).resolve()
