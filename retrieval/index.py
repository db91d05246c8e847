"""A FAISS index of a catalogue, saved as a folder with ids, metadata and a manifest."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
from pydantic import BaseModel, Field

from retrieval import faiss_tools
from retrieval.catalogue import Catalogue, Item
from retrieval.embedding_cache import EmbeddingCache
from retrieval.encoders import Encoder
from retrieval.faiss_tools import new_faiss_index
from retrieval.threads import per_core_map
from retrieval.vector_file import VectorWriter

__all__ = ["SearchIndex", "Manifest", "build_index", "encode_catalogue", "new_faiss_index"]

INDEX_FILE, ITEMS_FILE, VECTORS_FILE, MANIFEST_FILE = (
    "index.faiss",
    "items.jsonl",
    "vectors.npy",
    "manifest.json",
)
SCRATCH_VECTORS = ".vectors-building.npy"  # a build's vectors, renamed to VECTORS_FILE on save
EXACT_CHUNK = 65_536  # rows scored at a time by the exact fallback


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
    catalogue: str
    catalogue_fingerprint: str
    count: int
    skipped: list[SkippedItem] = Field(default_factory=list)
    build_seconds: float = 0.0
    encoded: int = 0  # images encoded by this build (the rest came from the cache)
    built_at: str = ""
    search_defaults: dict[str, int] = Field(default_factory=dict)  # nprobe / efSearch / rerank


@dataclass(frozen=True)
class Hit:
    item: Item
    score: float
    position: int  # row in the index


class SearchIndex:
    """Items, their vectors and a FAISS index over them.

    Query-time settings (`nprobe` for IVF, `efSearch` for HNSW, `rerank`: re-score the best
    `rerank` candidates of a compressed index with the stored float vectors) start from the
    manifest's defaults; change them with `configure` or per call in `search`.
    """

    def __init__(
        self, index: faiss.Index, items: Sequence[Item], vectors: np.ndarray, manifest: Manifest
    ):
        if index.ntotal != len(items) or len(vectors) != len(items):
            raise ValueError(
                f"index has {index.ntotal} vectors, {len(vectors)} stored vectors and "
                f"{len(items)} items: rebuild it"
            )
        self.index, self.items, self.vectors, self.manifest = index, items, vectors, manifest
        self.positions = {item.id: i for i, item in enumerate(items)}
        self.cpu_index = index
        self.settings = {**faiss_tools.default_settings(index), **manifest.search_defaults}
        self.lossy = faiss_tools.is_lossy(index)
        self.notes: list[str] = []  # what did not go as asked (no mmap, no GPU), for the user
        self.scratch_vectors: Path | None = None  # set by build_index; moved into place by save
        if faiss_tools.gpu_available():
            self.index, note = faiss_tools.to_gpu(index, manifest.factory)
            self.notes += [note] if note else []
        self._on_gpu = self.index is not index

    def __len__(self) -> int:
        return len(self.items)

    def vector(self, item_id: str) -> np.ndarray:
        """(D,) stored vector of an item."""
        if item_id not in self.positions:
            raise KeyError(f"no item {item_id!r} in this index")
        return np.asarray(self.vectors[self.positions[item_id]], dtype=np.float32)

    def configure(
        self, nprobe: int | None = None, ef_search: int | None = None, rerank: int | None = None
    ) -> SearchIndex:
        """Set query-time settings for every later search; None keeps a setting."""
        wanted = {"nprobe": nprobe, "efSearch": ef_search, "rerank": rerank}
        faiss_tools.check_settings(self.cpu_index, self.manifest.factory, wanted)
        self.settings.update({k: int(v) for k, v in wanted.items() if v is not None})
        return self

    def search(
        self,
        queries: np.ndarray,
        k: int = 10,
        exclude: Iterable[str] = (),
        allowed: np.ndarray | None = None,
        *,
        nprobe: int | None = None,
        ef_search: int | None = None,
        rerank: int | None = None,
    ) -> list[list[Hit]]:
        """Top-k hits per query row, skipping `exclude` ids and rows where `allowed` is False.

        `nprobe`, `ef_search` and `rerank` override this index's settings for this call.
        """
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if queries.shape[1] != self.manifest.dim:
            raise ValueError(
                f"query has dimension {queries.shape[1]}, index has {self.manifest.dim}"
            )
        settings = self.settings
        if nprobe is not None or ef_search is not None or rerank is not None:
            overrides = {"nprobe": nprobe, "efSearch": ef_search, "rerank": rerank}
            faiss_tools.check_settings(self.cpu_index, self.manifest.factory, overrides)
            settings = {**settings, **{k: v for k, v in overrides.items() if v is not None}}
        mask = self._mask(exclude, allowed)
        available = len(self.items) if mask is None else int(mask.sum())
        k = min(k, available)
        if k <= 0:
            return [[] for _ in queries]
        fetch = min(available, max(k, int(settings.get("rerank") or 0)))
        scores, rows = self._approximate(queries, fetch, mask, settings)
        if fetch > k:
            scores, rows = self._rerank(queries, rows, k)
        for i in np.flatnonzero((rows >= 0).sum(axis=1) < k):  # an IVF / HNSW filter ran dry
            scores[i], rows[i] = self._exact(queries[i], k, mask)
        return [
            [Hit(self.items[r], float(s), int(r)) for s, r in zip(srow, rrow) if r >= 0]
            for srow, rrow in zip(scores, rows)
        ]

    def _mask(self, exclude: Iterable[str], allowed: np.ndarray | None) -> np.ndarray | None:
        """(N,) bool of searchable rows, or None when every row is."""
        rows = [self.positions[i] for i in exclude if i in self.positions]
        if allowed is None and not rows:
            return None
        mask = np.ones(len(self.items), bool) if allowed is None else allowed.astype(bool)
        mask[rows] = False
        return mask

    def _approximate(self, queries: np.ndarray, k: int, mask: np.ndarray | None, settings: dict):
        if self._on_gpu:
            if "nprobe" in settings:
                faiss_tools.set_gpu_nprobe(self.index, settings["nprobe"])
            return (
                self.index.search(queries, k)
                if mask is None
                else self._gpu_masked(queries, k, mask)
            )
        keep: list = []
        sel = None if mask is None else faiss_tools.bitmap_selector(mask, keep)
        params = faiss_tools.search_parameters(self.index, settings, sel, keep)
        return self.index.search(queries, k, params=params)

    def _gpu_masked(self, queries: np.ndarray, k: int, mask: np.ndarray):
        fetch = k
        while True:  # GPU indexes take no selector: over-fetch, then filter
            fetch = min(len(self.items), fetch * 4 + len(self.items) - int(mask.sum()))
            scores, rows = self.index.search(queries, fetch)
            keep = [[j for j, r in enumerate(row) if r >= 0 and mask[r]][:k] for row in rows]
            if all(len(row) == k for row in keep) or fetch == len(self.items):
                width = max(len(row) for row in keep)
                out_s = np.full((len(rows), width), -np.inf, np.float32)
                out_r = np.full((len(rows), width), -1, np.int64)
                for i, row in enumerate(keep):
                    out_s[i, : len(row)], out_r[i, : len(row)] = scores[i][row], rows[i][row]
                return out_s, out_r

    def _rerank(self, queries: np.ndarray, rows: np.ndarray, k: int):
        """Re-score candidate rows with the stored float vectors; keep the best k."""
        out_s = np.full((len(queries), k), -np.inf, np.float32)
        out_r = np.full((len(queries), k), -1, np.int64)
        for i, (query, row) in enumerate(zip(queries, rows)):
            candidates = np.sort(row[row >= 0])  # sorted rows read a memory-mapped file in order
            exact = np.asarray(self.vectors[candidates], dtype=np.float32) @ query  # (C,)
            best = np.argsort(-exact, kind="stable")[:k]
            out_s[i, : len(best)], out_r[i, : len(best)] = exact[best], candidates[best]
        return out_s, out_r

    def _exact(self, query: np.ndarray, k: int, mask: np.ndarray | None):
        """Exact top-k of one query over the allowed rows, from the stored vectors."""
        rows = np.arange(len(self.items)) if mask is None else np.flatnonzero(mask)
        best_s, best_r = np.zeros(0, np.float32), np.zeros(0, np.int64)
        for start in range(0, len(rows), EXACT_CHUNK):
            chunk = rows[start : start + EXACT_CHUNK]
            scores = np.asarray(self.vectors[chunk], dtype=np.float32) @ query
            best_s, best_r = np.concatenate([best_s, scores]), np.concatenate([best_r, chunk])
            top = np.argsort(-best_s, kind="stable")[:k]
            best_s, best_r = best_s[top], best_r[top]
        out_s = np.full(k, -np.inf, np.float32)
        out_r = np.full(k, -1, np.int64)
        out_s[: len(best_s)], out_r[: len(best_r)] = best_s, best_r
        return out_s, out_r

    def attribute_mask(self, attributes: dict[str, str]) -> np.ndarray:
        """(N,) bool: items whose attributes equal all the given ones."""
        return np.array(
            [all(item.attributes.get(k) == v for k, v in attributes.items()) for item in self.items]
        )

    def save(self, folder: str | Path) -> Path:
        """Write the index folder; each file is replaced atomically (a loaded index may map it)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        cpu_index = faiss.index_gpu_to_cpu(self.index) if self._on_gpu else self.cpu_index
        faiss.write_index(cpu_index, str(folder / f".{INDEX_FILE}.tmp"))
        os.replace(folder / f".{INDEX_FILE}.tmp", folder / INDEX_FILE)
        self._save_vectors(folder / VECTORS_FILE)
        with open(folder / f".{ITEMS_FILE}.tmp", "w", encoding="utf-8") as f:
            for item in self.items:
                f.write(json.dumps(item.to_json()) + "\n")
        os.replace(folder / f".{ITEMS_FILE}.tmp", folder / ITEMS_FILE)
        (folder / MANIFEST_FILE).write_text(self.manifest.model_dump_json(indent=2) + "\n")
        return folder

    def _save_vectors(self, path: Path) -> None:
        source = getattr(self.vectors, "filename", None)
        if source and Path(source).resolve() == path.resolve():
            return  # already there (loaded from this folder)
        if self.scratch_vectors is not None and self.scratch_vectors.parent == path.parent:
            self.vectors.flush()
            os.replace(self.scratch_vectors, path)
        else:
            tmp = path.with_name(f".{path.name}.tmp")
            out = np.lib.format.open_memmap(tmp, "w+", np.float32, self.vectors.shape)
            for start in range(0, len(self.vectors), EXACT_CHUNK):
                out[start : start + EXACT_CHUNK] = self.vectors[start : start + EXACT_CHUNK]
            out.flush()
            del out
            os.replace(tmp, path)
        if self.scratch_vectors is not None or source:
            self.vectors = np.load(path, mmap_mode="r")
            self.scratch_vectors = None

    @classmethod
    def load(
        cls, folder: str | Path, encoder: Encoder | None = None, mmap: bool = False
    ) -> SearchIndex:
        """Load a saved index; refuse it if it was built with another model than `encoder`.

        With `mmap`, the FAISS index is memory-mapped from its file where FAISS supports that
        for its type (else read into RAM, with a note in `notes` and on stderr). The stored
        vectors are always memory-mapped.
        """
        folder = Path(folder)
        if not (folder / MANIFEST_FILE).exists():
            raise FileNotFoundError(
                f"no index at {folder}: build one with `circhat index build --out {folder}`"
            )
        manifest = Manifest.model_validate_json((folder / MANIFEST_FILE).read_text())
        if encoder is not None:
            check_compatible(manifest, encoder, folder)
        items = [
            Item(**json.loads(line))
            for line in (folder / ITEMS_FILE).read_text(encoding="utf-8").splitlines()
            if line
        ]
        vectors = np.load(folder / VECTORS_FILE, mmap_mode="r")
        index, note = faiss_tools.read_index(folder / INDEX_FILE, mmap)
        loaded = cls(index, items, vectors, manifest)
        loaded.notes = [note, *loaded.notes] if note else loaded.notes
        for line in loaded.notes:
            print(f"circhat: note: {line}", file=sys.stderr)
        return loaded


def check_compatible(manifest: Manifest, encoder: Encoder, folder: Path | str = "index") -> None:
    if manifest.model_id != encoder.model_id or manifest.dim != encoder.dim:
        raise IndexMismatchError(
            f"index {folder} was built with {manifest.model_id} ({manifest.dim}-d) but the model in "
            f"use is {encoder.model_id} ({encoder.dim}-d): rebuild it with "
            f"`circhat index build --model {encoder.model_id} --out {folder}` or use that model"
        )
    if manifest.model_fingerprint != encoder.fingerprint:
        raise IndexMismatchError(
            f"index {folder} was built with other weights of {manifest.model_id}: rebuild it with "
            f"`circhat index build --model {encoder.model_id} --out {folder}`"
        )


@dataclass
class EncodedCatalogue:
    items: list[Item]
    vectors: np.ndarray  # (N, D) float32, in RAM or memory-mapped from a file
    skipped: list[SkippedItem]
    encoded: int  # images that reached the encoder (the rest came from the cache)


def encode_catalogue(
    catalogue: Catalogue,
    encoder: Encoder,
    cache: EmbeddingCache | None = None,
    batch_size: int | None = None,
    progress: bool = True,
    out: str | Path | None = None,
) -> EncodedCatalogue:
    """Vectors of every readable catalogue image, reusing cached embeddings.

    With `out` (a .npy path) the vectors are written there batch by batch and returned
    memory-mapped, so the build needs no RAM for them.
    """
    from tqdm import tqdm

    batch_size = batch_size or encoder.batch_size
    writer = VectorWriter(len(catalogue), encoder.dim, out)
    items, skipped, encoded = [], [], 0
    bar = tqdm(
        total=len(catalogue), desc=f"encode {catalogue.name}", unit="img", disable=not progress
    )

    def embed_positions(positions: range) -> tuple[list, list, np.ndarray | None, int]:
        """Load (render, decode), look up, encode and cache one batch: runs on a worker core."""
        batch = catalogue.load(positions)
        readable = [b for b in batch if b.image is not None]
        if not readable:
            return batch, readable, None, 0
        return batch, readable, *embed_loaded(readable, encoder, cache)

    positions = (
        range(start, min(start + batch_size, len(catalogue)))
        for start in range(0, len(catalogue), batch_size)
    )
    for batch, readable, vectors, fresh in per_core_map(
        embed_positions, positions, encoder.parallel_batches
    ):
        skipped += [
            SkippedItem(id=b.item.id, source=b.item.source, reason=b.error)
            for b in batch
            if b.image is None
        ]
        if readable:
            encoded += fresh
            items += [b.item for b in readable]
            writer.write(vectors)
        bar.update(len(batch))
        bar.set_postfix(encoded=encoded, skipped=len(skipped))
    bar.close()
    if not items:
        raise ValueError(f"catalogue {catalogue.name} has no readable images")
    return EncodedCatalogue(items, writer.finish(), skipped, encoded)


def build_index(
    catalogue: Catalogue,
    encoder: Encoder,
    factory: str = "Flat",
    cache: EmbeddingCache | None = None,
    batch_size: int | None = None,
    train_sample: int = 100_000,
    progress: bool = True,
    vectors_path: str | Path | None = None,
) -> SearchIndex:
    """Encode a catalogue (reusing cached embeddings) and index it.

    With `vectors_path` the vectors go to that file as they arrive (bounded memory: the
    quantiser trains on at most `train_sample` of them, and they are added in chunks).
    """
    started = time.time()
    encoded = encode_catalogue(catalogue, encoder, cache, batch_size, progress, vectors_path)
    return index_encoded(encoded, catalogue, encoder, factory, train_sample, started, progress)


def index_encoded(
    encoded: EncodedCatalogue,
    catalogue: Catalogue,
    encoder: Encoder,
    factory: str,
    train_sample: int,
    started: float,
    progress: bool = False,
) -> SearchIndex:
    """The SearchIndex of encoded vectors (shared by the local and the Ray engine)."""
    index = faiss_tools.index_vectors(encoded.vectors, factory, train_sample, progress=progress)
    manifest = Manifest(
        model_id=encoder.model_id,
        model_fingerprint=encoder.fingerprint,
        dim=encoder.dim,
        factory=factory,
        catalogue=catalogue.name,
        catalogue_fingerprint=catalogue.fingerprint(),
        count=len(encoded.items),
        skipped=encoded.skipped,
        build_seconds=round(time.time() - started, 2),
        encoded=encoded.encoded,
        built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        search_defaults=faiss_tools.default_settings(index),
    )
    built = SearchIndex(index, encoded.items, encoded.vectors, manifest)
    if isinstance(encoded.vectors, np.memmap):
        built.scratch_vectors = Path(encoded.vectors.filename)
    return built


def look_up(batch, encoder: Encoder, cache: EmbeddingCache | None) -> list[np.ndarray | None]:
    if cache is None:
        return [None] * len(batch)
    return cache.get_many(encoder.fingerprint, [b.content_hash for b in batch])


def embed_loaded(batch, encoder: Encoder, cache: EmbeddingCache | None) -> tuple[np.ndarray, int]:
    """Vectors of a batch of loaded images; only cache misses reach the encoder."""
    found = look_up(batch, encoder, cache)
    missing = [i for i, v in enumerate(found) if v is None]
    if missing:
        fresh = encoder.encode_image_batch([batch[i].image for i in missing])
        for i, vector in zip(missing, fresh):
            found[i] = vector
        if cache is not None:
            hashes = [batch[i].content_hash for i in missing]
            cache.put_many(encoder.fingerprint, hashes, fresh)
    return np.stack(found).astype(np.float32), len(missing)
