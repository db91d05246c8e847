"""The on-disk format of an index folder: the FAISS file, items, vectors, schema, manifest."""

from __future__ import annotations

import json
import os
import shlex
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import faiss
import numpy as np
from pydantic import BaseModel, Field, model_validator

from retrieval.catalogues.base import Item
from retrieval.catalogues.ref import CatalogueRef
from retrieval.catalogues.schema import CatalogueSchema
from retrieval.index import faiss_tools

if TYPE_CHECKING:
    from retrieval.encoders import Encoder

INDEX_FILE, ITEMS_FILE, VECTORS_FILE, MANIFEST_FILE, SCHEMA_FILE = (
    "index.faiss",
    "items.jsonl",
    "vectors.npy",
    "manifest.json",
    "schema.json",
)
SCRATCH_VECTORS = ".vectors-building.npy"  # a build's vectors, renamed to VECTORS_FILE on save
COPY_CHUNK = 65_536  # rows copied at a time


class IndexMismatchError(ValueError):
    """The index was built with another model than the one in use."""


class SkippedItem(BaseModel):
    id: str
    source: str
    reason: str


class Manifest(BaseModel):
    model_id: str
    model_fingerprint: str
    dim: int
    factory: str
    metric: str = "inner_product"
    catalogue: CatalogueRef
    catalogue_fingerprint: str
    count: int
    skipped: list[SkippedItem] = Field(default_factory=list)
    left_out: dict[str, int] = Field(default_factory=dict)  # metadata rows, ... by kind
    build_seconds: float = 0.0
    encoded: int = 0  # images encoded by this build (the rest came from the cache)
    built_at: str = ""
    search_defaults: dict[str, int] = Field(default_factory=dict)  # nprobe / efSearch / rerank

    @model_validator(mode="before")
    @classmethod
    def _catalogue_ref(cls, data):
        """Manifests written before catalogue refs name the catalogue by a plain string."""
        if isinstance(data, dict) and isinstance(data.get("catalogue"), str):
            data = {**data, "catalogue": CatalogueRef.read(data["catalogue"], data.get("count"))}
        return data


def check_compatible(manifest: Manifest, encoder: Encoder, folder: Path | str = "index") -> None:
    rebuild = rebuild_command(
        Path(folder), manifest.model_copy(update={"model_id": encoder.model_id})
    )
    if manifest.model_id != encoder.model_id or manifest.dim != encoder.dim:
        raise IndexMismatchError(
            f"index {folder} was built with {manifest.model_id} ({manifest.dim}-d) but the model in "
            f"use is {encoder.model_id} ({encoder.dim}-d): rebuild it with `{rebuild}` or use "
            "that model"
        )
    if manifest.model_fingerprint != encoder.fingerprint:
        raise IndexMismatchError(
            f"index {folder} was built with other weights of {manifest.model_id}: rebuild it with "
            f"`{rebuild}`"
        )


def _replace(folder: Path, name: str, write) -> None:
    """Write `name` through a temporary file, then move it into place atomically."""
    tmp = folder / f".{name}.tmp"
    write(tmp)
    os.replace(tmp, folder / name)


def write_folder(
    folder: Path,
    cpu_index: faiss.Index,
    items,
    manifest: Manifest,
    schema: CatalogueSchema | None,
) -> None:
    """Every file but the vectors (see `save_vectors`); each is replaced atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    _replace(folder, INDEX_FILE, lambda tmp: faiss.write_index(cpu_index, str(tmp)))

    def write_items(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            for item in items:
                f.write(json.dumps(item.to_json()) + "\n")

    _replace(folder, ITEMS_FILE, write_items)
    if schema is not None:
        _replace(folder, SCHEMA_FILE, lambda tmp: tmp.write_text(schema.model_dump_json(indent=1)))
    (folder / MANIFEST_FILE).write_text(manifest.model_dump_json(indent=2) + "\n")


def save_vectors(vectors: np.ndarray, path: Path, scratch: Path | None) -> np.ndarray:
    """Put (N, D) `vectors` at `path` (moving a build's scratch file there when it is one);
    returns them memory-mapped from `path` where they came from a file."""
    source = getattr(vectors, "filename", None)
    if source and Path(source).resolve() == path.resolve():
        return vectors  # already there (loaded from this folder)
    if scratch is not None and scratch.parent == path.parent:
        vectors.flush()
        os.replace(scratch, path)
    else:
        tmp = path.with_name(f".{path.name}.tmp")
        out = np.lib.format.open_memmap(tmp, "w+", np.float32, vectors.shape)
        for start in range(0, len(vectors), COPY_CHUNK):
            out[start : start + COPY_CHUNK] = vectors[start : start + COPY_CHUNK]
        out.flush()
        del out
        os.replace(tmp, path)
    if scratch is not None or source:
        return np.load(path, mmap_mode="r")
    return vectors


def read_folder(folder: Path, encoder: Encoder | None, mmap: bool):
    """(faiss index, items, vectors, manifest, schema or None, note) of a saved index."""
    if not (folder / MANIFEST_FILE).exists():
        raise FileNotFoundError(
            f"no index at {folder}: build one with `circhat index build --out {folder}`"
        )
    with _damaged(folder, MANIFEST_FILE):
        manifest = Manifest.model_validate_json((folder / MANIFEST_FILE).read_text())
    if encoder is not None:
        check_compatible(manifest, encoder, folder)
    with _damaged(folder, ITEMS_FILE, manifest):
        items = [
            Item(**json.loads(line))
            for line in (folder / ITEMS_FILE).read_text(encoding="utf-8").splitlines()
            if line
        ]
    schema = None
    if (folder / SCHEMA_FILE).exists():
        with _damaged(folder, SCHEMA_FILE, manifest):
            schema = CatalogueSchema.model_validate_json((folder / SCHEMA_FILE).read_text())
    with _damaged(folder, VECTORS_FILE, manifest):
        vectors = np.load(folder / VECTORS_FILE, mmap_mode="r")
        if vectors.ndim != 2 or len(vectors) != len(items) or vectors.shape[1] != manifest.dim:
            raise ValueError(f"{vectors.shape} vectors for {len(items)} items of {manifest.dim}-d")
    with _damaged(folder, INDEX_FILE, manifest):
        index, note = faiss_tools.read_index(folder / INDEX_FILE, mmap)
        if index.ntotal != len(items) or index.d != manifest.dim:
            raise ValueError(f"{index.ntotal} {index.d}-d vectors for {len(items)} items")
    return index, items, vectors, manifest, schema, note


def rebuild_command(folder: Path, manifest: Manifest | None = None) -> str:
    """The `circhat index build` that makes the index again: with the catalogue, model and
    factory the manifest records, where it records them."""
    words = ["circhat index build", f"--out {shlex.quote(str(folder))}"]
    if manifest is not None:
        catalogue = manifest.catalogue.command_line()
        words += [catalogue] if catalogue else []
        words.append(f"--model {shlex.quote(manifest.model_id)}")
        words += (
            [f"--factory {shlex.quote(manifest.factory)}"] if manifest.factory != "Flat" else []
        )
    return " ".join(words)


@contextmanager
def _damaged(folder: Path, name: str, manifest: Manifest | None = None):
    """Any failure reading one of the index's files becomes one line naming the file."""
    try:
        yield
    except (OSError, ValueError, RuntimeError, EOFError, TypeError) as err:
        if isinstance(err, IndexMismatchError):
            raise
        text = str(err).strip()
        reason = (
            "unreadable"
            if isinstance(err, RuntimeError)
            else (text.splitlines()[-1] if text else type(err).__name__)
        )
        missing = isinstance(err, FileNotFoundError) or not (folder / name).exists()
        problem = "is missing" if missing else f"is damaged ({reason[:120]})"
        raise ValueError(
            f"{folder / name} {problem}: rebuild the index with "
            f"`{rebuild_command(folder, manifest)}`"
        ) from None
