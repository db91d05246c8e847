"""Catalogues: the built-in fmnist-color garments, or a folder of the user's own images."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from retrieval import vocab
from retrieval.fmnist import load_split
from retrieval.render import render

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
MAX_IMAGE_PIXELS = 50_000_000


@dataclass(frozen=True)
class Item:
    """One catalogue product: a stable id, its attributes (may be empty) and a caption."""

    id: str
    attributes: dict[str, str] = field(default_factory=dict)
    caption: str = ""
    source: str = ""

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "attributes": self.attributes,
            "caption": self.caption,
            "source": self.source,
        }


@dataclass(frozen=True)
class LoadedImage:
    """An item's decoded RGB image, or the reason it could not be read."""

    item: Item
    content_hash: str
    image: np.ndarray | None  # (H, W, 3) uint8
    error: str = ""


class Catalogue:
    """A sequence of items whose images can be loaded in batches."""

    name: str
    items: list[Item]

    def load(self, indices: Sequence[int]) -> list[LoadedImage]:
        raise NotImplementedError

    def fingerprint(self) -> str:
        """Hash of the catalogue's identity: item ids, attributes and sources."""
        digest = hashlib.sha256(self.name.encode())
        for item in self.items:
            digest.update(json.dumps(item.to_json(), sort_keys=True).encode())
        return digest.hexdigest()[:16]

    def batches(self, batch_size: int) -> Iterator[list[LoadedImage]]:
        for start in range(0, len(self.items), batch_size):
            yield self.load(range(start, min(start + batch_size, len(self.items))))

    def __len__(self) -> int:
        return len(self.items)

    def index_of(self, item_id: str) -> int:
        if not hasattr(self, "_positions"):
            self._positions = {item.id: i for i, item in enumerate(self.items)}
        if item_id not in self._positions:
            raise KeyError(f"no item {item_id!r} in catalogue {self.name!r}")
        return self._positions[item_id]


class FmnistColorCatalogue(Catalogue):
    """Real Fashion-MNIST garments rendered with a seeded colour and pattern each."""

    def __init__(
        self, split: str = "test", seed: int = 0, size: int = 64, limit: int | None = None
    ):
        self.split, self.seed, self.size = split, seed, size
        self.name = f"fmnist-color-{split}"
        garments, labels = load_split(split)
        if limit is not None:
            garments, labels = garments[:limit], labels[:limit]
        rng = np.random.default_rng([seed, 0 if split == "train" else 1])
        self.garments = garments
        self.labels = labels
        self.colors = rng.integers(len(vocab.COLORS), size=len(labels))
        self.patterns = rng.integers(len(vocab.PATTERNS), size=len(labels))
        self.phases = rng.integers(0, 8, size=(len(labels), 2))
        self.items = [self._item(i) for i in range(len(labels))]

    def _item(self, i: int) -> Item:
        attributes = {
            "category": vocab.CATEGORIES[self.labels[i]],
            "color": vocab.COLORS[self.colors[i]],
            "pattern": vocab.PATTERNS[self.patterns[i]],
        }
        return Item(
            id=f"{self.split}-{i:05d}",
            attributes=attributes,
            caption=vocab.caption(**attributes),
            source=f"fashion-mnist:{self.split}:{i}",
        )

    def render(self, indices: Sequence[int]) -> np.ndarray:
        """(N, size, size, 3) uint8 images of the given item positions."""
        idx = np.asarray(indices, dtype=np.int64)
        return render(
            self.garments[idx], self.colors[idx], self.patterns[idx], self.phases[idx], self.size
        )

    def load(self, indices: Sequence[int]) -> list[LoadedImage]:
        images = self.render(indices)
        return [
            LoadedImage(self.items[i], hashlib.sha256(img.tobytes()).hexdigest(), img)
            for i, img in zip(indices, images)
        ]

    def fingerprint(self) -> str:
        return f"{self.name}-seed{self.seed}-{self.size}px-n{len(self.items)}"


def decode_image(data: bytes, name: str = "image") -> np.ndarray:
    """Decode image bytes to (H, W, 3) uint8; raise ValueError with a one-line reason."""
    if not data:
        raise ValueError(f"{name}: empty file")
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise ValueError(
                    f"{name}: {img.width}x{img.height} pixels is too large "
                    f"(limit {MAX_IMAGE_PIXELS:,}); resize it first"
                )
            img.load()
            return np.asarray(img.convert("RGB"))
    except ValueError:
        raise
    except Exception as err:  # PIL raises many types for bad files
        raise ValueError(f"{name}: not a readable image ({type(err).__name__})") from None


class FolderCatalogue(Catalogue):
    """Images in a folder (recursively), with optional metadata.csv / metadata.jsonl.

    Metadata rows need a `file` column (path relative to the folder); `id` and `caption`
    are optional, and every other column becomes an attribute.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"catalogue folder {self.root} does not exist")
        self.name = f"folder:{self.root.resolve()}"
        metadata = _read_metadata(self.root)
        files = sorted(
            p
            for p in self.root.rglob("*")
            if p.is_file()
            and p.suffix.lower() in IMAGE_SUFFIXES | {""}
            and not p.name.startswith(".")
            and p.name not in ("metadata.csv", "metadata.jsonl")
        )
        self.items = []
        for path in files:
            rel = path.relative_to(self.root).as_posix()
            row = dict(metadata.get(rel, {}))
            item_id = str(row.pop("id", "") or rel)
            caption = str(row.pop("caption", ""))
            attributes = {k: str(v) for k, v in row.items() if k != "file" and v not in ("", None)}
            self.items.append(Item(item_id, attributes, caption, str(path)))

    def load(self, indices: Sequence[int]) -> list[LoadedImage]:
        loaded = []
        for i in indices:
            item = self.items[i]
            data = Path(item.source).read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            try:
                loaded.append(LoadedImage(item, digest, decode_image(data, item.source)))
            except ValueError as err:
                loaded.append(LoadedImage(item, digest, None, str(err)))
        return loaded

    def fingerprint(self) -> str:
        digest = hashlib.sha256(super().fingerprint().encode())
        for item in self.items:
            stat = Path(item.source).stat()
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
        return digest.hexdigest()[:16]


def _read_metadata(root: Path) -> dict[str, dict]:
    rows: list[dict] = []
    if (root / "metadata.csv").exists():
        with open(root / "metadata.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    elif (root / "metadata.jsonl").exists():
        lines = (root / "metadata.jsonl").read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    raise ValueError(
                        f"{root / 'metadata.jsonl'} line {number}: not valid JSON"
                    ) from None
    for row in rows:
        if "file" not in row:
            raise ValueError(f"metadata in {root}: every row needs a 'file' column")
    return {str(row["file"]): row for row in rows}


def open_catalogue(spec: str, seed: int = 0) -> Catalogue:
    """'fmnist-color' / 'fmnist-color:train', 'fmnist-color-variants:N' or a folder path."""
    if spec.startswith("fmnist-color-variants"):
        from retrieval.variants import FmnistVariantsCatalogue, parse_count

        count = spec.split(":", 1)[1] if ":" in spec else ""
        return FmnistVariantsCatalogue(parse_count(count) if count else None, seed=seed)
    if spec.startswith("fmnist-color"):
        split = spec.split(":", 1)[1] if ":" in spec else "test"
        return FmnistColorCatalogue(split=split, seed=seed)
    return FolderCatalogue(spec)
