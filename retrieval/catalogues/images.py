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
            return np.asarray(img.convert("RGB"))
    except ValueError:
        raise
    except Exception as err:  # PIL raises many types for bad files
        raise ValueError(f"{name}: not a readable image ({type(err).__name__})") from None
