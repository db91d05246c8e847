"""Where circhat keeps what it builds: $CIRCHAT_HOME (default ~/.cache/circhat)."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    return Path(os.environ.get("CIRCHAT_HOME", Path.home() / ".cache" / "circhat"))


def embedding_cache_dir() -> Path:
    return home() / "embeddings"


def safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
