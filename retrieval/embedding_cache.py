"""Per-image embedding cache on disk, keyed by model fingerprint and image content hash."""

from __future__ import annotations

from pathlib import Path

import diskcache
import numpy as np

from retrieval.paths import embedding_cache_dir


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
        found = []
        for digest in hashes:
            raw = self.store.get(f"{model}:{digest}")
            found.append(None if raw is None else np.frombuffer(raw, dtype=np.float32))
        return found

    def put_many(self, model: str, hashes: list[str], vectors: np.ndarray) -> None:
        with self.store.transact():
            for digest, vector in zip(hashes, vectors):
                self.store.set(f"{model}:{digest}", np.asarray(vector, np.float32).tobytes())

    def __len__(self) -> int:
        return len(self.store)

    def close(self) -> None:
        self.store.cull()
        self.store.close()
