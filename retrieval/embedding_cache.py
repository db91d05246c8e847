"""Per-image embedding cache on disk, keyed by model fingerprint and image content hash."""

from __future__ import annotations

from pathlib import Path

import diskcache
import numpy as np

from retrieval.paths import embedding_cache_dir


def _key(model: str, digest: str) -> bytes:
    """Model fingerprint and the raw bytes of a hex content hash: short binary keys make
    each write's two SQLite statements a fifth cheaper than text keys."""
    try:
        return model.encode() + b":" + bytes.fromhex(digest)
    except ValueError:  # not hex: any other content key
        return model.encode() + b":" + digest.encode()


def _model_marker(model: str) -> str:
    """Present once any vector of `model` was stored (a fresh build skips its lookups); a
    text key, so that no binary vector key can look like one."""
    return f"{model}:*"


def _is_marker(key) -> bool:
    return isinstance(key, str) and key.endswith(":*")


class EmbeddingCache:
    """diskcache-backed store of float32 vectors; survives crashes, so builds resume."""

    def __init__(self, directory: str | Path | None = None, size_limit_gb: float = 8.0):
        self.directory = Path(directory or embedding_cache_dir())
        # cull_limit=0: no eviction check on every write (a third of a write's cost); the
        # size limit is enforced when the cache is closed instead
        self.store = diskcache.Cache(
            str(self.directory), size_limit=int(size_limit_gb * 2**30), cull_limit=0
        )

    def get_many(self, model: str, hashes: list[str]) -> list[np.ndarray | None]:
        if not hashes or _model_marker(model) not in self.store:
            return [None] * len(hashes)  # nothing of this model yet: one lookup, not N
        found = []
        for digest in hashes:
            raw = self.store.get(_key(model, digest))
            found.append(None if raw is None else np.frombuffer(raw, dtype=np.float32))
        return found

    def put_many(self, model: str, hashes: list[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, np.float32)
        with self.store.transact():
            self.store.set(_model_marker(model), b"")
            for digest, vector in zip(hashes, vectors):
                self.store.set(_key(model, digest), vector.tobytes())

    def __len__(self) -> int:
        """Stored vectors (reads every key: for reports and tests)."""
        return sum(1 for key in self.store.iterkeys() if not _is_marker(key))

    def close(self) -> None:
        self.store.cull()
        self.store.close()
