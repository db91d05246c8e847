"""(N, D) float32 vectors written batch by batch, to RAM or to a memory-mapped .npy file."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

CHUNK = 65_536  # rows copied at a time


class VectorWriter:
    """Rows appended batch by batch, into RAM or into a memory-mapped .npy file."""

    def __init__(self, capacity: int, dim: int, path: str | Path | None = None):
        self.path = None if path is None else Path(path)
        if self.path is None:
            self.array = np.zeros((capacity, dim), np.float32)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.array = np.lib.format.open_memmap(self.path, "w+", np.float32, (capacity, dim))
        self.count = 0

    def write(self, vectors: np.ndarray, at: int | None = None) -> None:
        start = self.count if at is None else at
        self.array[start : start + len(vectors)] = vectors
        self.count = max(self.count, start + len(vectors))

    def finish(self) -> np.ndarray:
        """The written rows; a file with unused capacity (skipped images) is cut to size."""
        if self.count == len(self.array):
            if self.path is not None:
                self.array.flush()
            return self.array
        if self.path is None:
            return self.array[: self.count].copy()
        trimmed = VectorWriter(self.count, self.array.shape[1], self.path.with_suffix(".trim.npy"))
        for start in range(0, self.count, CHUNK):
            trimmed.write(np.asarray(self.array[start : min(start + CHUNK, self.count)]))
        trimmed.array.flush()
        del self.array, trimmed.array
        os.replace(trimmed.path, self.path)
        return np.load(self.path, mmap_mode="r+")
