"""Read the real Fashion-MNIST garments (idx files) shipped in the repo or by Debian."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

PACKAGED_DIR = Path(__file__).parent / "data"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
SPLIT_PREFIX = {"train": "train", "test": "t10k"}


class DatasetMissingError(FileNotFoundError):
    """The Fashion-MNIST files of a split are not on this machine."""


def _find(split: str, kind: str) -> Path:
    name = f"{SPLIT_PREFIX[split]}-{kind}-idx{3 if kind == 'images' else 1}-ubyte.gz"
    for folder in (PACKAGED_DIR, DEBIAN_DIR):
        if (folder / name).exists():
            return folder / name
    raise DatasetMissingError(
        f"Fashion-MNIST {split} split not found ({name}): "
        "install it with `sudo apt-get install dataset-fashion-mnist`"
    )


def missing_split(split: str) -> str:
    """Why a split cannot be read here (the message of DatasetMissingError), or ''."""
    try:
        for kind in ("images", "labels"):
            _find(split, kind)
    except DatasetMissingError as err:
        return str(err)
    return ""


def load_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (images (N, 28, 28) uint8, labels (N,) int64) of the 'train' or 'test' split."""
    if split not in SPLIT_PREFIX:
        raise ValueError(f"unknown Fashion-MNIST split {split!r}: use 'train' or 'test'")
    with gzip.open(_find(split, "images")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(_find(split, "labels")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    if len(images) != len(labels):
        raise ValueError(f"Fashion-MNIST {split}: {len(images)} images but {len(labels)} labels")
    return images, labels
