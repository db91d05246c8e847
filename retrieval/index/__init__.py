"""The FAISS index of a catalogue: the query path (search), its folder format (store), FAISS tools."""

from __future__ import annotations

from retrieval.index.search import Hit, SearchIndex
from retrieval.index.store import (
    INDEX_FILE,
    ITEMS_FILE,
    MANIFEST_FILE,
    SCRATCH_VECTORS,
    VECTORS_FILE,
    IndexMismatchError,
    Manifest,
    SkippedItem,
    check_compatible,
)

__all__ = [
    "INDEX_FILE",
    "ITEMS_FILE",
    "MANIFEST_FILE",
    "SCRATCH_VECTORS",
    "VECTORS_FILE",
    "Hit",
    "IndexMismatchError",
    "Manifest",
    "SearchIndex",
    "SkippedItem",
    "check_compatible",
]
