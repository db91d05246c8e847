"""Decoding image files into RGB arrays, with a one-line reason when they cannot be read."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
MAX_IMAGE_PIXELS = 50_000_000


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
            return to_rgb(img)
    except ValueError:
        raise
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
