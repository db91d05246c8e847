"""Uploads kept in the dialogue state as small base64 PNGs (the state stays JSON)."""

from __future__ import annotations

import base64
import io

import numpy as np


def thumbnail(image: np.ndarray, side: int = 128) -> str:
    from PIL import Image

    picture = Image.fromarray(image)
    picture.thumbnail((side, side))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def from_thumbnail(png_base64: str) -> np.ndarray:
    from retrieval.catalogues.images import decode_image

    return decode_image(base64.b64decode(png_base64), "the upload's thumbnail")
