"""Catalogue images as files the browser can cache: each item is rendered once, into a folder
named by the catalogue's fingerprint and the decoder's version (new images or a new way to
read them, such as EXIF orientation applied: a new folder), and Gradio serves the file.

A turn then sends file URLs, not images: no PNG encoding per turn, and the browser keeps
what it has already shown.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path

import numpy as np
from PIL import Image

from retrieval import paths
from retrieval.catalogues.images import TURNED_DECODER

SMALL = 128  # images below this side (Fashion-MNIST renders) are enlarged, pixel for pixel
SCALE = 3
PHOTO_SIDE = 320  # photos are shrunk to this side at most
JPEG_QUALITY = 85


def default_root() -> Path:
    return paths.home() / "thumbnails"


def display_image(image: np.ndarray) -> Image.Image:
    """An item's image as shown: small renders enlarged (nearest), photos shrunk."""
    picture = Image.fromarray(np.asarray(image, np.uint8))
    if max(picture.size) < SMALL:
        return picture.resize((picture.width * SCALE, picture.height * SCALE), Image.NEAREST)
    picture.thumbnail((PHOTO_SIDE, PHOTO_SIDE))
    return picture


class Thumbnails:
    """Item id -> the path of its display image, written on first use (thread-safe)."""

    def __init__(self, catalogue, root: str | Path | None = None):
        self.catalogue = catalogue
        rendered = f"{catalogue.fingerprint()}-{TURNED_DECODER}"  # sideways ones not reused
        self.folder = Path(root or default_root()) / paths.safe_name(rendered)
        self._lock = threading.Lock()
        self._known: dict[str, Path] = {}

    def _name(self, item_id: str, photo: bool) -> Path:
        digest = hashlib.sha1(item_id.encode()).hexdigest()[:20]
        return self.folder / f"{digest}.{'jpg' if photo else 'png'}"

    def paths(self, ids: list[str]) -> list[str]:
        """Paths of the items' display images, rendering those not on disk yet (one batch)."""
        missing = [i for i in ids if i not in self._known]
        if missing:
            self._render(missing)
        return [str(self._known[i]) for i in ids]

    def path(self, item_id: str) -> str:
        return self.paths([item_id])[0]

    def _render(self, ids: list[str]) -> None:
        found = {}
        for item_id in ids:  # written by an earlier run: either format will do
            for photo in (False, True):
                if self._name(item_id, photo).exists():
                    found[item_id] = self._name(item_id, photo)
        todo = [i for i in ids if i not in found]
        if todo:
            loaded = self.catalogue.load([self.catalogue.index_of(i) for i in todo])
            self.folder.mkdir(parents=True, exist_ok=True)
            for item_id, image in zip(todo, loaded):
                found[item_id] = self._write(item_id, image.image)
        with self._lock:
            self._known.update(found)

    def _write(self, item_id: str, image: np.ndarray | None) -> Path:
        """The display image, written atomically (a grey square for an unreadable item)."""
        image = np.full((64, 64, 3), 200, np.uint8) if image is None else image
        picture = display_image(image)
        photo = max(np.asarray(image).shape[:2]) >= SMALL
        target = self._name(item_id, photo)
        fd, temporary = tempfile.mkstemp(dir=self.folder, suffix=target.suffix)
        with os.fdopen(fd, "wb") as out:
            if photo:
                picture.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY)
            else:
                picture.save(out, "PNG")
        os.replace(temporary, target)
        return target
