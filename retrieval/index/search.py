"""SearchIndex: a catalogue's items, their vectors and a FAISS index over them (the query path)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import faiss
import numpy as np

from retrieval.catalogues.base import Item
from retrieval.catalogues.schema import CatalogueSchema, schema_from_items
from retrieval.index import faiss_tools, store
from retrieval.index.store import Manifest

if TYPE_CHECKING:
    from retrieval.encoders import Encoder

log = logging.getLogger(__name__)
EXACT_CHUNK = 65_536  # rows scored at a time by the exact fallback
SCHEMA_SAMPLE = 50_000  # items read to infer a schema the index was saved without


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
        self,
        index: faiss.Index,
        items: Sequence[Item],
        vectors: np.ndarray,
        manifest: Manifest,
        schema: CatalogueSchema | None = None,
    ):
        if index.ntotal != len(items) or len(vectors) != len(items):
            raise ValueError(
                f"index has {index.ntotal} vectors, {len(vectors)} stored vectors and "
                f"{len(items)} items: rebuild it"
            )
        self.index, self.items, self.vectors, self.manifest = index, items, vectors, manifest
        self._schema = schema
        self.positions = {item.id: i for i, item in enumerate(items)}
        self.cpu_index = index
        self.settings = {**faiss_tools.default_settings(index), **manifest.search_defaults}
        self.lossy = faiss_tools.is_lossy(index)
        self.notes: list[str] = []  # what did not go as asked (no mmap, no GPU), for the user
        self.scratch_vectors: Path | None = None  # set by a build; moved into place by save
        if faiss_tools.gpu_available():
            self.index, note = faiss_tools.to_gpu(index, manifest.factory)
            self.notes += [note] if note else []
        self._on_gpu = self.index is not index

    def __len__(self) -> int:
        return len(self.items)

    @property
    def schema(self) -> CatalogueSchema:
        """The catalogue's schema, saved with the index (inferred from the items' attributes
        for an index saved without one)."""
        if self._schema is None:
            self._schema = schema_from_items(self.items[:SCHEMA_SAMPLE])
        return self._schema

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
        mask = self.searchable(exclude, allowed)
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

    def searchable(self, exclude: Iterable[str], allowed: np.ndarray | None) -> np.ndarray | None:
        """(N,) bool of the rows `allowed` (None: all) less those of `exclude`'s ids, or None
        when every row is searchable."""
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
        """Exact top-k of one query over the allowed rows (faiss.knn over chunks of the
        stored vectors, which may be a memory-mapped file larger than RAM)."""
        rows = np.arange(len(self.items)) if mask is None else np.flatnonzero(mask)
        best_s, best_r = np.zeros(0, np.float32), np.zeros(0, np.int64)
        for start in range(0, len(rows), EXACT_CHUNK):
            chunk = rows[start : start + EXACT_CHUNK]
            vectors = np.ascontiguousarray(self.vectors[chunk], dtype=np.float32)
            scores, found = faiss.knn(
                query[None], vectors, min(k, len(chunk)), faiss.METRIC_INNER_PRODUCT
            )
            best_s = np.concatenate([best_s, scores[0]])
            best_r = np.concatenate([best_r, chunk[found[0]]])
            top = np.argsort(-best_s, kind="stable")[:k]
            best_s, best_r = best_s[top], best_r[top]
        out_s = np.full(k, -np.inf, np.float32)
        out_r = np.full(k, -1, np.int64)
        out_s[: len(best_s)], out_r[: len(best_r)] = best_s, best_r
        return out_s, out_r

    def save(self, folder: str | Path) -> Path:
        """Write the index folder; each file is replaced atomically (a loaded index may map it)."""
        folder = Path(folder)
        cpu_index = faiss.index_gpu_to_cpu(self.index) if self._on_gpu else self.cpu_index
        self.vectors, self.manifest = store.write_folder(
            folder,
            cpu_index,
            self.items,
            self.vectors,
            self.manifest,
            self._schema,
            self.scratch_vectors,
        )
        self.scratch_vectors = None
        return folder

    @classmethod
    def load(
        cls,
        folder: str | Path,
        encoder: Encoder | None = None,
        mmap: bool = False,
        verify: bool = True,
    ) -> SearchIndex:
        """Load a saved index; refuse it if it was built with another model than `encoder`,
        or (with `verify`) if a file differs from the checksum its manifest records.

        With `mmap`, the FAISS index is memory-mapped from its file where FAISS supports that
        for its type (else read into RAM, with a note in `notes` and in the log). The stored
        vectors are always memory-mapped.
        """
        index, items, vectors, manifest, schema, notes = store.read_folder(
            Path(folder), encoder, mmap, verify
        )
        loaded = cls(index, items, vectors, manifest, schema)
        loaded.notes = [*notes, *loaded.notes]
        for line in loaded.notes:
            log.warning("note: %s", line)
        return loaded
