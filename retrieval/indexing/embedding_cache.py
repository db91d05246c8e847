"""Embedding cache on disk: vectors found by model fingerprint and image content hash.

The content hash is the catalogue's (`LoadedImage.content_hash`): for an image file, the
sha256 of its bytes, with the decoder's version folded in for the files whose decoding changed
(those an EXIF orientation turns: `retrieval.catalogues.images.content_hash`), so a vector
cached from an older decoding is never served for them.

Vectors are written a batch at a time: one record per batch, three diskcache rows (the
batch's content hashes, its vectors as one float32 block, and a checksum of that block). A row
costs about 30 us to write, which per image would be a tenth of what fashion-mini needs to
encode it; per batch it is nothing.

A damaged cache is never fatal: where SQLite finds damage (on opening or on any read or write),
the folder is moved aside and a new cache started; vectors whose bytes were damaged where SQLite
cannot see it (a checksum that does not match, NaN) count as missing, and are encoded again.

A lookup first tries the record of exactly the same batch: a rebuild or a resumed build cuts
the same catalogue into the same batches. Otherwise a table of where each of the model's hashes
is stored finds vectors written in any other batching, by any catalogue or process. The table is
read from the hash rows once per cache object, at its first such lookup, and not grown by the
object's own writes (a million-item build would hold 200 MB of it for nothing): what one cache
object writes, the same object finds again by the same batch, a new object (a new build) by
either way.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
import threading
import time
from pathlib import Path

import diskcache
import numpy as np

from retrieval.indexing.file_hashes import FileHashes
from retrieval.paths import embedding_cache_dir

log = logging.getLogger(__name__)
RECORD_LIMIT = 1024  # vectors per record: larger writes are split
_HASHES, _VECTORS, _CHECKSUM = "hashes", "vectors", "checksum"


def _checksum(block: bytes) -> bytes:
    return hashlib.blake2b(block, digest_size=8).digest()


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
        self._lock = threading.Lock()
        self._repair_lock = threading.Lock()
        self._warned = False  # about damaged vectors, once per cache object
        try:
            self.store = self._open()
        except sqlite3.DatabaseError as err:  # a damaged cache.db: never fatal, it is a cache
            self.store = self._start_again(err)
        self._located: dict[str, dict[str, tuple[str, int]]] = {}  # model -> hash -> (record, row)
        self.files = FileHashes(self.directory)  # photo files' hashes, by their stat records

    def _start_again(self, err: sqlite3.DatabaseError) -> diskcache.Cache:
        """Move the damaged cache folder aside and open a new, empty one in its place."""
        stamp = f"{self.directory.name}.damaged-{int(time.time())}"
        aside, n = self.directory.with_name(stamp), 1
        while aside.exists():  # damaged twice within a second
            aside, n = self.directory.with_name(f"{stamp}-{n}"), n + 1
        with contextlib.suppress(FileNotFoundError):  # another process moved it first
            self.directory.rename(aside)
        log.warning(
            "the embedding cache %s was damaged (%s): moved it to %s and started a new one; "
            "images are encoded again as needed",
            self.directory,
            err,
            aside,
        )
        return self._open()

    def _recover(self, store: diskcache.Cache, err: sqlite3.DatabaseError) -> None:
        """Damage found after opening (a page read in the middle of a build): the same as at
        opening, once, whichever thread meets it first; the others go on with the new cache."""
        with self._repair_lock:
            if self.store is not store:
                return  # another thread already started again
            with contextlib.suppress(Exception):
                store.close()
            self.store = self._start_again(err)
            self._located = {}

    def _open(self) -> diskcache.Cache:
        # cull_limit=0: no eviction check on every write; the size limit is enforced when the
        # cache is closed instead. Records stay inside SQLite (no file per record).
        store = diskcache.Cache(
            str(self.directory),
            size_limit=self.size_limit,
            cull_limit=0,
            disk_min_file_size=2**24,
        )
        store.get("probe")  # most damage shows here; the rest where it is read (`_recover`)
        return store

    def get_many(self, model: str, hashes: list[str]) -> list[np.ndarray | None]:
        """The stored vector of each hash, or None where there is none (or it is damaged)."""
        if not hashes:
            return []
        store = self.store
        try:
            return self._get_many(model, hashes)
        except sqlite3.DatabaseError as err:
            self._recover(store, err)
            return [None] * len(hashes)

    def _get_many(self, model: str, hashes: list[str]) -> list[np.ndarray | None]:
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

    def has_many(self, model: str, hashes: list[str]) -> list[bool]:
        """Whether the cache holds a vector of each hash (without reading the vectors: a
        damaged one still counts; it is encoded again when it is read)."""
        store = self.store
        try:
            located = self._locations(model)
        except sqlite3.DatabaseError as err:
            self._recover(store, err)
            return [False] * len(hashes)
        return [digest in located for digest in hashes]

    def put_many(self, model: str, hashes: list[str], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, np.float32)
        if len(vectors) != len(hashes):
            raise ValueError(f"{len(hashes)} hashes but {len(vectors)} vectors")
        store = self.store
        try:
            for start in range(0, len(hashes), RECORD_LIMIT):
                part = list(hashes[start : start + RECORD_LIMIT])
                record = _record_id(part)
                block = vectors[start : start + RECORD_LIMIT].tobytes()
                with store.transact():
                    store.set(_key(model, _HASHES, record), "\n".join(part).encode())
                    store.set(_key(model, _VECTORS, record), block)
                    store.set(_key(model, _CHECKSUM, record), _checksum(block))
        except sqlite3.DatabaseError as err:
            self._recover(store, err)  # these vectors are not kept: encoded again next time

    def _vectors(self, model: str, record: str, rows: int | None = None) -> np.ndarray | None:
        raw = self.store.get(_key(model, _VECTORS, record))
        if raw is None:
            return None
        checksum = self.store.get(_key(model, _CHECKSUM, record))  # None: an older record
        flat = np.frombuffer(raw, dtype=np.float32)
        if (checksum is not None and checksum != _checksum(raw)) or not np.isfinite(flat).all():
            self._damaged_record(record)  # bytes SQLite does not check: encoded again
            return None
        if rows is None:
            hashes = self.store.get(_key(model, _HASHES, record))
            if hashes is None:
                return None
            rows = hashes.count(b"\n") + 1
        return flat.reshape(rows, -1) if rows and len(flat) % rows == 0 else None

    def _damaged_record(self, record: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning(
                "the embedding cache %s holds damaged vectors (record %s, maybe others): "
                "they are encoded again",
                self.directory,
                record,
            )

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
            try:
                hashes = raw.decode().split("\n") if isinstance(raw, bytes) else None
            except UnicodeDecodeError:  # damaged bytes: its images are encoded again
                hashes = None
            if hashes is not None:
                yield owner, record, hashes

    def __len__(self) -> int:
        """Distinct (model, hash) pairs stored (reads every record's hashes: reports, tests)."""
        store = self.store
        try:
            return len(
                {(owner, digest) for owner, _, hashes in self._hash_records() for digest in hashes}
            )
        except sqlite3.DatabaseError as err:
            self._recover(store, err)
            return 0

    def close(self) -> None:
        self.files.close()
        try:
            self.store.cull()
        except sqlite3.DatabaseError as err:
            self._recover(self.store, err)
        self.store.close()
