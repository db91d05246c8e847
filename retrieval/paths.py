"""Where circhat keeps what it builds: $CIRCHAT_HOME (default ~/.cache/circhat)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def home() -> Path:
    return Path(os.environ.get("CIRCHAT_HOME", Path.home() / ".cache" / "circhat"))


def embedding_cache_dir() -> Path:
    return home() / "embeddings"


def safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def default_index_dir(
    catalogue: str = "fmnist-color",
    model_id: str = "fashion-mini",
    metadata: str | Path | None = None,
    part: str | None = None,
) -> Path:
    """The index folder of a catalogue spec and model: a folder catalogue is named by its
    resolved path (and its metadata file, where one is named), whatever the working folder."""
    name = catalogue
    if Path(catalogue).is_dir():
        where = str(Path(catalogue).resolve()) + (
            f"|{Path(metadata).resolve()}" if metadata else ""
        )
        name = f"{Path(catalogue).resolve().name}-{hashlib.sha256(where.encode()).hexdigest()[:8]}"
    name += f"-{part}" if part else ""
    return home() / "indexes" / safe_name(f"{name}-{model_id}")
