"""Where sessions live between turns: SQLite on one machine (the default), Redis where several
machines serve. A session is one record: its DialogueState as JSON and a version; a turn loads
it, steps the agent and saves it back only if the version is still the one it loaded (compare
and set), so two turns of one session never interleave, whichever worker serves them. Records
expire `ttl_s` after their last save; a record above `max_bytes` is refused.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple, Protocol

from retrieval import paths

DEFAULT_TTL_S = 24 * 3600
DEFAULT_MAX_BYTES = 2_000_000
PURGE_EVERY = 200  # saves between two deletions of expired SQLite rows


class StoredSession(NamedTuple):
    state_json: str
    version: int


class SessionConflict(Exception):
    """The session changed since it was loaded (another turn of it was served meanwhile)."""


class SessionMissing(Exception):
    """No such session (never made, deleted or expired)."""


class SessionTooLarge(Exception):
    """The record is above the store's size bound."""


class SessionStore(Protocol):
    ttl_s: float
    max_bytes: int

    def create(self, session_id: str, state_json: str) -> None: ...

    def load(self, session_id: str) -> StoredSession | None: ...

    def version(self, session_id: str) -> int | None:
        """The record's version without its state (None: no such live session)."""

    def save(self, session_id: str, state_json: str, version: int) -> int:
        """Write the state if the record is still at `version`; returns the new version."""

    def delete(self, session_id: str) -> bool: ...

    def ping(self) -> None:
        """Raise ConnectionError if the store cannot be reached."""


def _check_size(state_json: str, max_bytes: int) -> None:
    if len(state_json.encode()) > max_bytes:
        raise SessionTooLarge(f"the session is above {max_bytes:,} bytes")


class SqliteStore:
    """One row per session in a WAL-mode SQLite file: readers never wait for a writer, and
    every process on the machine (uvicorn's workers) shares it."""

    def __init__(
        self, path: str | Path, ttl_s: float = DEFAULT_TTL_S, max_bytes: int = DEFAULT_MAX_BYTES
    ):
        self.path, self.ttl_s, self.max_bytes = Path(path), ttl_s, max_bytes
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._saves = 0
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, state TEXT NOT NULL,"
                " version INTEGER NOT NULL, expires REAL NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:  # one connection per thread: sqlite3 objects are not shared across them
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at each checkpoint, fast
            self._local.db = db
        return db

    def create(self, session_id: str, state_json: str) -> None:
        _check_size(state_json, self.max_bytes)
        self._connect().execute(
            "INSERT INTO sessions VALUES (?, ?, 1, ?)",
            (session_id, state_json, time.time() + self.ttl_s),
        )

    def _live(self, columns: str, session_id: str) -> tuple | None:
        """`columns` of a session's record that has not expired (None: no such record)."""
        return (
            self._connect()
            .execute(
                f"SELECT {columns} FROM sessions WHERE id = ? AND expires > ?",
                (session_id, time.time()),
            )
            .fetchone()
        )

    def load(self, session_id: str) -> StoredSession | None:
        row = self._live("state, version", session_id)
        return StoredSession(*row) if row else None

    def version(self, session_id: str) -> int | None:
        row = self._live("version", session_id)
        return row[0] if row else None

    def save(self, session_id: str, state_json: str, version: int) -> int:
        _check_size(state_json, self.max_bytes)
        db, now = self._connect(), time.time()
        changed = db.execute(
            "UPDATE sessions SET state = ?, version = version + 1, expires = ?"
            " WHERE id = ? AND version = ? AND expires > ?",
            (state_json, now + self.ttl_s, session_id, version, now),
        ).rowcount
        if not changed:
            if self.version(session_id) is None:
                raise SessionMissing(session_id)
            raise SessionConflict(session_id)
        self._saves += 1
        if self._saves % PURGE_EVERY == 0:
            db.execute("DELETE FROM sessions WHERE expires <= ?", (now,))
        return version + 1

    def delete(self, session_id: str) -> bool:
        return bool(
            self._connect().execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount
        )

    def ping(self) -> None:
        try:
            self._connect().execute("SELECT 1").fetchone()
        except sqlite3.Error as err:
            raise ConnectionError(f"sqlite {self.path}: {err}") from None


# compare and set in one step on the server: -1 no such session, -2 changed meanwhile
_REDIS_SAVE = """
local v = redis.call('HGET', KEYS[1], 'version')
if not v then return -1 end
if tonumber(v) ~= tonumber(ARGV[1]) then return -2 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'version', tonumber(v) + 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return tonumber(v) + 1
"""


class RedisStore:
    """One hash per session (`state`, `version`) with Redis's own expiry; the version check
    runs as a server-side script, so any process on any machine may serve any turn."""

    def __init__(
        self,
        url: str,
        ttl_s: float = DEFAULT_TTL_S,
        max_bytes: int = DEFAULT_MAX_BYTES,
        prefix: str = "circhat:session:",
    ):
        try:
            import redis
        except ImportError:
            raise ValueError(
                f"--store {url}: the redis client is not installed: pip install redis"
            ) from None
        self.ttl_s, self.max_bytes, self.prefix = ttl_s, max_bytes, prefix
        self.client = redis.Redis.from_url(url, decode_responses=True)
        self._save = self.client.register_script(_REDIS_SAVE)
        self._errors = redis.RedisError

    def _key(self, session_id: str) -> str:
        return self.prefix + session_id

    @contextlib.contextmanager
    def _reached(self) -> Iterator[None]:
        """The client's errors as ConnectionError (the API answers 503 store_unreachable)."""
        try:
            yield
        except self._errors as err:
            raise ConnectionError(f"redis: {err}") from None

    def create(self, session_id: str, state_json: str) -> None:
        _check_size(state_json, self.max_bytes)
        with self._reached(), self.client.pipeline() as pipe:
            pipe.hset(self._key(session_id), mapping={"state": state_json, "version": 1})
            pipe.expire(self._key(session_id), int(self.ttl_s))
            pipe.execute()

    def load(self, session_id: str) -> StoredSession | None:
        with self._reached():
            record = self.client.hgetall(self._key(session_id))
        return StoredSession(record["state"], int(record["version"])) if record else None

    def version(self, session_id: str) -> int | None:
        with self._reached():
            version = self.client.hget(self._key(session_id), "version")
        return None if version is None else int(version)

    def save(self, session_id: str, state_json: str, version: int) -> int:
        _check_size(state_json, self.max_bytes)
        with self._reached():
            new = int(
                self._save(
                    keys=[self._key(session_id)], args=[version, state_json, int(self.ttl_s)]
                )
            )
        if new == -1:
            raise SessionMissing(session_id)
        if new == -2:
            raise SessionConflict(session_id)
        return new

    def delete(self, session_id: str) -> bool:
        with self._reached():
            return bool(self.client.delete(self._key(session_id)))

    def ping(self) -> None:
        with self._reached():
            self.client.ping()


def default_sqlite_path() -> Path:
    return paths.home() / "sessions.db"


def open_store(
    spec: str | None, ttl_s: float = DEFAULT_TTL_S, max_bytes: int = DEFAULT_MAX_BYTES
) -> SessionStore:
    """The store a `--store` value names: `sqlite:PATH` (default: sessions.db under
    CIRCHAT_HOME) or `redis://HOST:PORT/DB`."""
    spec = spec or f"sqlite:{default_sqlite_path()}"
    if spec.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(spec, ttl_s, max_bytes)
    if spec.startswith("sqlite:") and spec.removeprefix("sqlite:"):
        return SqliteStore(spec.removeprefix("sqlite:"), ttl_s, max_bytes)
    raise ValueError(f"--store {spec!r}: use sqlite:PATH or redis://HOST:PORT/DB")
