"""The content hash of each photo file, remembered by what the file system says of it (its
size, inode, and modification and change times): a rebuild reads and hashes only the files
whose record changed, not every file of the catalogue.

The record is stronger than rsync's quick check (size and modification time): the change time
(ctime) cannot be set back by a user or a copying tool, so a file rewritten with its old
modification time kept (`cp -p`, `rsync -t`, `touch -d`) is hashed again. The table lives in
SQLite beside the embedding cache, keyed by the file's absolute path and the hash function's
version; like the cache, damage is never fatal: the table is started again and every file is
hashed once more.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from pathlib import Path

from retrieval.catalogues.images import TURNED_DECODER

log = logging.getLogger(__name__)
FILE_NAME = "file-hashes.db"
# what a content hash means: bump where `retrieval.catalogues.images.content_hash` changes
HASH_VERSION = f"sha256+{TURNED_DECODER}"
_CHUNK = 500  # paths per SQL query (SQLite's limit on parameters is 999 on old builds)
_SCAN_FROM = 1000  # paths from which one range scan of their folder beats lookups


class FileHashes:
    """Content hashes of files by path, valid while the file's record is unchanged."""

    def __init__(self, directory: str | Path):
        self.path = Path(directory) / FILE_NAME
        self._lock = threading.Lock()
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as err:
            self._db = self._start_again(err)

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # a cache: a lost last write is hashed again
        db.execute(
            "CREATE TABLE IF NOT EXISTS files (path TEXT, version TEXT, record TEXT, hash TEXT,"
            " PRIMARY KEY (path, version))"
        )
        return db

    def _start_again(self, err: sqlite3.DatabaseError) -> sqlite3.Connection:
        log.warning("%s was damaged (%s): started again; files are hashed again", self.path, err)
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").unlink()
        return self._open()

    def known(self, records: dict[str, str]) -> dict[str, str]:
        """{path: content hash} of the paths whose file record is as remembered: many paths
        under one folder by one range scan of the table's key (a catalogue's photos), a few
        by lookups of their own."""
        paths, found = list(records), {}
        folder = _folder_of(paths) if len(paths) >= _SCAN_FROM else ""
        with self._lock:
            try:
                for rows in self._scan(folder) if folder else self._lookups(paths):
                    found |= {p: h for p, r, h in rows if records.get(p) == r}
            except sqlite3.DatabaseError as err:
                self._db = self._start_again(err)
                return {}
        return found

    def _scan(self, folder: str):
        """The rows of every path under `folder` (which ends with its separator)."""
        after = folder[:-1] + chr(ord(folder[-1]) + 1)  # '/a/b/' .. '/a/b0': all of '/a/b/'
        yield self._db.execute(
            "SELECT path, record, hash FROM files WHERE version = ? AND path >= ? AND path < ?",
            [HASH_VERSION, folder, after],
        )

    def _lookups(self, paths: list[str]):
        for start in range(0, len(paths), _CHUNK):
            part = paths[start : start + _CHUNK]
            yield self._db.execute(
                "SELECT path, record, hash FROM files WHERE version = ? AND path IN"
                f" ({','.join('?' * len(part))})",
                [HASH_VERSION, *part],
            )

    def remember(self, rows: list[tuple[str, str, str]]) -> None:
        """Keep (path, file record, content hash) rows."""
        if not rows:
            return
        with self._lock:
            try:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
                    [(p, HASH_VERSION, r, h) for p, r, h in rows],
                )
                self._db.execute("COMMIT")
            except sqlite3.DatabaseError as err:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                self._db = self._start_again(err)

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()


def _folder_of(paths: list[str]) -> str:
    """The deepest folder (with its trailing separator) holding every path; '' for none."""
    prefix = os.path.commonprefix(paths)
    cut = prefix.rfind(os.sep)
    return prefix[: cut + 1] if cut > 0 else ""  # not the root: the whole table
