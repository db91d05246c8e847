"""Embedding cache on disk: vectors found by model fingerprint and image content hash.

Vectors are written a batch at a time: one record per batch, two diskcache rows (the batch's
content hashes, and its vectors as one float32 block). A row costs about 30 us to write, which
per image would be a tenth of what fashion-mini needs to encode it; per batch it is nothing.

A lookup first tries the record of exactly the same batch: a rebuild or a resumed build cuts
the same catalogue into the same batches. Otherwise a table of where each of the model's hashes
is stored finds vectors written in any other batching, by any catalogue or process. The table is
read from the hash rows once per cache object, at its first such lookup, and not grown by the
object's own writes (a million-item build would hold 200 MB of it for nothing): what one cache
object writes, the same object finds again by the same batch, a new object (a new build) by
either way.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from pathlib import Path

import diskcache
import numpy as np

from retrieval.paths import embedding_cache_dir

log = logging.getLogger(__name__)
RECORD_LIMIT = 1024  # vectors per record: larger writes are split
_HASHES, _VECTORS = "hashes", "vectors"


def _record_id(hashes: list[str]) -> str:
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()[:32]


def _key(model: str, kind: str, record: str) -> str:
    return f"{model}|{kind}|{record}"


class EmbeddingCache:
    """diskcache-backed store of float32 vectors; survives crashes, so builds resume.

    Content hashes are strings without newlines (hex digests, typically).
    """

    def __init__(self, directory: str | Path | None = None, size_limit_gb: float = 8.0):
        self.directory = Path(directory or embedding_cache_dir())
        self.size_limit = int(size_limit_gb * 2**30)
        try:
            self.store = self._open()
        except sqlite3.DatabaseError as err:  # a damaged cache.db: never fatal, it is a cache
            aside = self.directory.with_name(f"{self.directory.name}.damaged-{int(time.time())}")
            self.directory.rename(aside)
            log.warning(
                "the embedding cache %s was damaged (%s): moved it to %s and started a new one; "
                "images are encoded again as needed",
                self.directory,
                err,
                aside,
            )
            self.store = self._open()
        self._located: dict[str, dict[str, tuple[str, int]]] = {}  # model -> hash -> (record, row)
        self._lock = threading.Lock()

    def _open(self) -> diskcache.Cache:
        # cull_limit=0: no eviction check on every write; the size limit is enforced when the
        # cache is closed instead. Records stay inside SQLite (no file per record).
        store = diskcache.Cache(
            str(self.directory),
            size_limit=self.size_limit,
            cull_limit=0,
            disk_min_file_size=2**24,
        )
        store.get("probe")  # a damaged database fails here, not in the middle of a build
        return store

    def get_many(self, model: str, hashes: list[str]) -> list[np.ndarray | None]:
        """The stored vector of each hash, or None where there is none."""
        if not hashes:
            return []
        same_batch = self._vectors(model, _record_id(hashes), len(hashes))
        if same_batch is not None:
            return list(same_batch)
        located = self._locations(model)
        records: dict[str, np.ndarray | None] = {}
        found = []
        for digest in hashes:
            where = located.get(digest)
            if where is None:
                found.append(None)
                continue
            record, row = where
            if record not in records:
                records[record] = self._vectors(model, record)
            vectors = records[record]
            found.append(None if vectors is None or row >= len(vectors) else vectors[row])
        return found

    def put_many(self, model: str, hashes: list[str], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, np.float32)
        if len(vectors) != len(hashes):
            raise ValueError(f"{len(hashes)} hashes but {len(vectors)} vectors")
        for start in range(0, len(hashes), RECORD_LIMIT):
            part = list(hashes[start : start + RECORD_LIMIT])
            record = _record_id(part)
            with self.store.transact():
                self.store.set(_key(model, _HASHES, record), "\n".join(part).encode())
                self.store.set(
                    _key(model, _VECTORS, record),
                    vectors[start : start + RECORD_LIMIT].tobytes(),
                )

    def _vectors(self, model: str, record: str, rows: int | None = None) -> np.ndarray | None:
        raw = self.store.get(_key(model, _VECTORS, record))
        if raw is None:
            return None
        flat = np.frombuffer(raw, dtype=np.float32)
        if rows is None:
            hashes = self.store.get(_key(model, _HASHES, record))
            if hashes is None:
                return None
            rows = hashes.count(b"\n") + 1
        return flat.reshape(rows, -1) if rows and len(flat) % rows == 0 else None

    def _locations(self, model: str) -> dict[str, tuple[str, int]]:
        """Where each of the model's hashes is stored, read from its hash rows once."""
        with self._lock:
            if model not in self._located:
                self._located[model] = {
                    digest: (record, row)
                    for _, record, hashes in self._hash_records(model)
                    for row, digest in enumerate(hashes)
                }
            return self._located[model]

    def _hash_records(self, model: str | None = None):
        """(model, record, hashes) of every stored record (of `model`, or of every model)."""
        for key in self.store.iterkeys():
            if not isinstance(key, str):
                continue
            owner, kind, record = (key.rsplit("|", 2) + ["", ""])[:3]
            if kind != _HASHES or (model is not None and owner != model):
                continue
            raw = self.store.get(key)
            if raw is not None:
                yield owner, record, raw.decode().split("\n")

    def __len__(self) -> int:
        """Distinct (model, hash) pairs stored (reads every record's hashes: reports, tests)."""
        return len(
            {(owner, digest) for owner, _, hashes in self._hash_records() for digest in hashes}
        )

    def close(self) -> None:
        self.store.cull()
        self.store.close()
