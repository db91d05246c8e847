import io

import numpy as np
from PIL import Image

from retrieval.catalogues import decode_image


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_a_16_bit_png_keeps_its_grey_levels():
    levels = (np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)  # 0 .. 65520
    decoded = decode_image(_png(Image.fromarray(levels)), "deep.png")
    assert decoded.shape == (64, 64, 3) and decoded.dtype == np.uint8
    assert decoded.min() == 0 and decoded.max() == 255 and 120 < decoded.mean() < 135


def test_transparent_pixels_are_white_not_the_hidden_colour():
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 255  # red everywhere, but only the centre is opaque
    rgba[2:6, 2:6, 3] = 255
    decoded = decode_image(_png(Image.fromarray(rgba, "RGBA")), "cutout.png")
    assert decoded[0, 0].tolist() == [255, 255, 255] and decoded[3, 3].tolist() == [255, 0, 0]
