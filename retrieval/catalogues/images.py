"""Decoding image files into RGB arrays as they are shown (EXIF orientation applied), with a
one-line reason when they cannot be read; and the content hash that keys their cached vectors.

Every reader of image bytes goes through `decode_image`: index builds (folder catalogues),
uploads (app, `search --image`), thumbnails (made from decoded items) and training (its
descriptors come from the catalogue's decoded items).
"""

from __future__ import annotations

import hashlib
import io
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageOps

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
MAX_IMAGE_PIXELS = 50_000_000
ORIENTATION_TAG = 0x0112  # EXIF Orientation: 1 upright, 2 to 8 mirrored and/or turned
# Folded into the content hash of the images whose pixels this decoder changed (those turned
# by their EXIF orientation): vectors cached from their sideways decoding are never served.
# Bump it when decoding changes again for some images, and fold it in for those.
TURNED_DECODER = "exif-orientation-1"


def exif_orientation(img: Image.Image) -> int:
    """The EXIF orientation of an opened image, 1 (upright) where it has none or an invalid
    one; read without decoding the pixels (a PNG's eXIf chunk counts where it precedes the
    image data, as the PNG specification requires)."""
    if img.format == "PNG" and "exif" not in img.info:
        return 1  # PngImageFile.getexif() would decode the whole image to look after it
    try:
        orientation = img.getexif().get(ORIENTATION_TAG, 1)
    except Exception:  # a damaged EXIF block: the pixels are read as stored
        return 1
    return orientation if orientation in range(1, 9) else 1


class ReadImage(NamedTuple):
    """A file's content hash and decoded image, or the reason it could not be read."""

    content_hash: str
    image: np.ndarray | None  # (H, W, 3) uint8
    error: str = ""


def read_image(data: bytes, name: str = "image") -> ReadImage:
    """Decode image bytes and hash them in one pass (an index build reads each file so)."""
    try:
        pixels, turned = _decode(data, name)
    except ValueError as err:
        return ReadImage(_hash(data, False), None, str(err))
    return ReadImage(_hash(data, turned), pixels)


def content_hash(data: bytes) -> str:
    """The key of an image file's cached vectors, without decoding it (see `_hash`)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            turned = exif_orientation(img) != 1
    except Exception:  # not an image: it has no vector, and its hash is only its bytes'
        turned = False
    return _hash(data, turned)


def _hash(data: bytes, turned: bool) -> str:
    """The sha256 of the bytes, with `TURNED_DECODER` folded in where the EXIF orientation
    turns the image: the upright images' cached vectors (nearly all) stay valid, the turned
    ones are encoded again once."""
    digest = hashlib.sha256(data)
    if turned:
        digest.update(TURNED_DECODER.encode())
    return digest.hexdigest()


def decode_image(data: bytes, name: str = "image") -> np.ndarray:
    """Decode image bytes to (H, W, 3) uint8 as shown (EXIF orientation applied); raise
    ValueError with a one-line reason."""
    return _decode(data, name)[0]


def _decode(data: bytes, name: str) -> tuple[np.ndarray, bool]:
    """((H, W, 3) uint8, whether the EXIF orientation turned it)."""
    if not data:
        raise ValueError(f"{name}: empty file")
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise ValueError(
                    f"{name}: {img.width}x{img.height} pixels is too large "
                    f"(limit {MAX_IMAGE_PIXELS:,}); resize it first"
                )
            turned = exif_orientation(img) != 1
            img.load()
            return to_rgb(ImageOps.exif_transpose(img) if turned else img), turned
    except ValueError:
        raise
    except Image.DecompressionBombError:  # raised by Image.open, before the check above
        raise ValueError(
            f"{name}: more pixels than {MAX_IMAGE_PIXELS:,} is too large; resize it first"
        ) from None
    except Exception as err:  # PIL raises many types for bad files
        raise ValueError(f"{name}: not a readable image ({type(err).__name__})") from None


def to_rgb(img: Image.Image) -> np.ndarray:
    """(H, W, 3) uint8 of any PIL image: 16-bit and float modes scaled to 8 bits (not clipped
    to white), transparent pixels laid on a white background (a product shot's, not the colour
    hidden under them): an alpha channel, or one colour marked transparent (PNG tRNS, GIF)."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(img, dtype=np.float64)
        top = 255.0
        if img.mode.startswith("I;16") or values.max(initial=0) > 255:
            top = 65535.0
        elif img.mode == "F" and values.max(initial=0) <= 1:
            top = 1.0  # floats from 0 to 1
        grey = np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        key = img.info.get("transparency")
        if isinstance(key, int):  # a 16-bit grey PNG's transparent level
            grey[np.asarray(img) == key] = 255
        return np.repeat(grey[..., None], 3, axis=2)
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    return np.asarray(img.convert("RGB"))
