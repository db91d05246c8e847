"""The on-disk format of an index folder: the FAISS file, items, vectors, schema, manifest."""

from __future__ import annotations

import json
import os
import shlex
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import faiss
import numpy as np
from pydantic import BaseModel, Field, ValidationError, model_validator

from retrieval.catalogues.base import Item
from retrieval.catalogues.ref import CatalogueRef
from retrieval.catalogues.schema import CatalogueSchema
from retrieval.index import checksums, faiss_tools
from retrieval.index.checksums import FileChecksum

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
HASHED_BESIDE = (INDEX_FILE, VECTORS_FILE)  # large files hashed on a thread at open
UNKNOWN_REBUILD = "circhat index build --out {folder} --catalogue <your catalogue> --model <model>"


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
    checksums: dict[str, FileChecksum] = Field(default_factory=dict)  # the folder's other files
    manifest_checksum: str = ""  # of this manifest's fields (see checksums.of_manifest)

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
    vectors: np.ndarray,
    manifest: Manifest,
    schema: CatalogueSchema | None,
    scratch: Path | None = None,
) -> tuple[np.ndarray, Manifest]:
    """Every file of the index, each replaced atomically; the manifest last, with the
    checksums of the others. Returns the vectors (see `save_vectors`) and that manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    _replace(folder, INDEX_FILE, lambda tmp: faiss.write_index(cpu_index, str(tmp)))

    def write_items(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            for item in items:
                f.write(json.dumps(item.to_json()) + "\n")

    _replace(folder, ITEMS_FILE, write_items)
    if schema is not None:
        _replace(folder, SCHEMA_FILE, lambda tmp: tmp.write_text(schema.model_dump_json(indent=1)))
    vectors = save_vectors(vectors, folder / VECTORS_FILE, scratch)
    names = [INDEX_FILE, ITEMS_FILE, VECTORS_FILE, *([SCHEMA_FILE] if schema is not None else [])]
    sums = {name: checksums.of_file(folder / name) for name in names}
    manifest = manifest.model_copy(update={"checksums": sums, "manifest_checksum": ""})
    own = checksums.of_manifest(manifest.model_dump(mode="json"))
    manifest = manifest.model_copy(update={"manifest_checksum": own})
    text = manifest.model_dump_json(indent=2) + "\n"
    _replace(folder, MANIFEST_FILE, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return vectors, manifest


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


def read_folder(folder: Path, encoder: Encoder | None, mmap: bool, verify: bool = True):
    """(faiss index, items, vectors, manifest, schema or None, notes) of a saved index; with
    `verify`, each file is checked against the checksum its manifest records."""
    manifest = read_manifest(folder)
    if encoder is not None:
        check_compatible(manifest, encoder, folder)
    sums = manifest.checksums if verify else {}
    for name, expected in sums.items():
        with _damaged(folder, name, manifest):
            checksums.check_size(folder / name, expected)
    notes = []
    if verify and not sums:
        notes.append(
            f"index {folder} was built without checksums, so its files are not verified: "
            f"rebuild it with `{rebuild_command(folder, manifest)}` to have them checked"
        )
    with ThreadPoolExecutor(max_workers=1) as pool:  # large files hashed beside the parsing
        hashed = {
            name: pool.submit(checksums.check, folder / name, sums[name])
            for name in HASHED_BESIDE
            if name in sums
        }
        items = _read_items(folder, manifest, sums.get(ITEMS_FILE))
        schema = _read_schema(folder, manifest, sums)
        with _damaged(folder, VECTORS_FILE, manifest):
            if VECTORS_FILE in hashed:
                hashed[VECTORS_FILE].result()
            vectors = np.load(folder / VECTORS_FILE, mmap_mode="r")
            if vectors.ndim != 2 or len(vectors) != len(items) or vectors.shape[1] != manifest.dim:
                raise ValueError(
                    f"{vectors.shape} vectors for {len(items)} items of {manifest.dim}-d"
                )
        with _damaged(folder, INDEX_FILE, manifest):
            if INDEX_FILE in hashed:
                hashed[INDEX_FILE].result()
            index, note = faiss_tools.read_index(folder / INDEX_FILE, mmap)
            if index.ntotal != len(items) or index.d != manifest.dim:
                raise ValueError(f"{index.ntotal} {index.d}-d vectors for {len(items)} items")
    return index, items, vectors, manifest, schema, [*notes, *([note] if note else [])]


def read_manifest(folder: Path) -> Manifest:
    """The manifest of an index folder; a damaged one is refused with a rebuild command that
    asks for the catalogue and model (a damaged manifest cannot be trusted to name them)."""
    path = folder / MANIFEST_FILE
    if not path.exists():
        raise FileNotFoundError(
            f"no index at {folder}: build one with `circhat index build --out {folder}`"
        )
    try:
        text = path.read_text(encoding="utf-8")
        manifest = Manifest.model_validate_json(text)
        own = manifest.manifest_checksum
        if own and own != checksums.of_manifest(json.loads(text)):
            raise checksums.ChecksumMismatch("its checksum differs from the one recorded at build")
    except (OSError, ValueError) as err:
        reason = _reason(err)
        rebuild = UNKNOWN_REBUILD.format(folder=shlex.quote(str(folder)))
        raise ValueError(
            f"{path} is damaged ({reason[:120]}): rebuild the index with `{rebuild}`, naming "
            "the catalogue and model it was built from"
        ) from None
    return manifest


def _read_items(folder: Path, manifest: Manifest, expected: FileChecksum | None) -> list[Item]:
    with _damaged(folder, ITEMS_FILE, manifest):
        data = (folder / ITEMS_FILE).read_bytes()
        if expected is not None:
            checksums.check(folder / ITEMS_FILE, expected, data)
        items = [Item(**json.loads(line)) for line in data.decode("utf-8").splitlines() if line]
        if len(items) != manifest.count:
            raise ValueError(f"{len(items):,} items where the build wrote {manifest.count:,}")
    return items


def _read_schema(
    folder: Path, manifest: Manifest, sums: dict[str, FileChecksum]
) -> CatalogueSchema | None:
    """The saved schema; a checksummed index has one only where its manifest records it."""
    present = SCHEMA_FILE in sums if sums else (folder / SCHEMA_FILE).exists()
    if not present:
        return None
    with _damaged(folder, SCHEMA_FILE, manifest):
        data = (folder / SCHEMA_FILE).read_bytes()
        if SCHEMA_FILE in sums:
            checksums.check(folder / SCHEMA_FILE, sums[SCHEMA_FILE], data)
        return CatalogueSchema.model_validate_json(data)


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
        reason = "unreadable" if isinstance(err, RuntimeError) else _reason(err)
        missing = isinstance(err, FileNotFoundError) or not (folder / name).exists()
        problem = "is missing" if missing else f"is damaged ({reason[:120]})"
        raise ValueError(
            f"{folder / name} {problem}: rebuild the index with "
            f"`{rebuild_command(folder, manifest)}`"
        ) from None


def _reason(err: Exception) -> str:
    """What went wrong, in a few words: pydantic's first error, else the error's last line."""
    if isinstance(err, ValidationError) and err.errors():
        return err.errors()[0]["msg"]
    text = str(err).strip()
    return text.splitlines()[-1] if text else type(err).__name__
