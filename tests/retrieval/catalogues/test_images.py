import hashlib
import io

import numpy as np
import pytest
from catalogue_fixtures import STORED, photo_bytes, upright_picture, write_turned_photos
from PIL import Image

from retrieval.catalogues import FolderCatalogue, decode_image
from retrieval.catalogues.images import content_hash, read_image
from retrieval.indexing.embedding_cache import EmbeddingCache
from retrieval.indexing.local import build_index, encode_catalogue


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


# EXIF orientation: photos read as they are shown ----------------------------------------


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


@pytest.mark.parametrize("orientation", sorted(STORED))
def test_a_photo_stored_turned_decodes_upright(orientation):
    upright = upright_picture()
    decoded = decode_image(photo_bytes(upright, orientation=orientation), "turned.jpg")
    assert decoded.shape == (64, 96, 3)
    assert np.abs(decoded.astype(int) - upright).mean() < 2  # JPEG's loss only
    assert decoded[10, 10].tolist() == pytest.approx([200, 30, 30], abs=12)
    assert decoded[54, 80].tolist() == pytest.approx([30, 60, 200], abs=12)
    assert decoded[10, 80].tolist() == pytest.approx([255, 255, 255], abs=12)


@pytest.mark.parametrize("mode", ["RGB", "CMYK", "L"])
def test_a_turned_photo_in_any_jpeg_mode_decodes_upright(mode):
    upright = np.asarray(Image.fromarray(upright_picture()).convert(mode).convert("RGB"))
    decoded = decode_image(photo_bytes(upright_picture(), orientation=6, mode=mode), "turned.jpg")
    assert decoded.shape == (64, 96, 3)
    assert np.abs(decoded.astype(int) - upright).mean() < 3


def test_a_turned_png_keeps_its_transparency_and_depth():
    upright = upright_picture()
    rgba = np.dstack([upright, np.full((64, 96), 255, np.uint8)])
    rgba[:, 88:] = (0, 200, 0, 0)  # a transparent strip on the right, green underneath
    decoded = decode_image(photo_bytes(rgba, "PNG", orientation=8, mode="RGBA"), "cutout.png")
    assert decoded.shape == (64, 96, 3)
    assert (decoded[:, 88:] == 255).all() and (decoded[:, :88] == upright[:, :88]).all()
    levels = (np.arange(64 * 96).reshape(64, 96) * 10).astype(np.uint16)  # 16-bit grey
    image = Image.fromarray(levels).transpose(STORED[6])
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    image.save(buffer, "PNG", exif=exif.tobytes())
    deep = decode_image(buffer.getvalue(), "deep.png")
    expected = np.clip(levels / 65535.0 * 255.0 + 0.5, 0, 255).astype(np.uint8)
    assert deep.shape == (64, 96, 3) and (deep[..., 0] == expected).all()


def test_a_damaged_or_odd_orientation_reads_the_pixels_as_stored():
    upright = upright_picture()
    image = Image.fromarray(upright)
    exif = Image.Exif()
    exif[0x0112] = 9  # no such orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95, exif=exif.tobytes())
    decoded = decode_image(buffer.getvalue(), "odd.jpg")
    assert decoded.shape == (64, 96, 3) and np.abs(decoded.astype(int) - upright).mean() < 2
    assert content_hash(buffer.getvalue()) == hashlib.sha256(buffer.getvalue()).hexdigest()


def test_only_turned_photos_get_a_new_cache_key():
    upright = photo_bytes(upright_picture())
    turned = photo_bytes(upright_picture(), orientation=6)
    assert content_hash(upright) == hashlib.sha256(upright).hexdigest()  # still cached
    assert content_hash(b"not an image") == hashlib.sha256(b"not an image").hexdigest()
    assert content_hash(turned) != hashlib.sha256(turned).hexdigest()
    assert read_image(turned, "turned.jpg").content_hash == content_hash(turned)
    assert read_image(upright, "upright.jpg").content_hash == content_hash(upright)
    unreadable = read_image(b"not an image", "notes.jpg")
    assert unreadable.image is None and "not a readable image" in unreadable.error


@pytest.fixture
def turned_folder(tmp_path):
    return write_turned_photos(tmp_path / "photos")


def test_an_index_build_encodes_turned_photos_upright(turned_folder, tiny_encoder):
    index = build_index(FolderCatalogue(turned_folder), tiny_encoder, progress=False)
    upright = index.vector("upright.jpg")
    stored = np.asarray(Image.fromarray(upright_picture()).transpose(STORED[6]))
    sideways = tiny_encoder.encode_images([stored])[0]  # as the turned file was read before
    assert cosine(upright, sideways) < 0.98  # the encoder tells the two apart
    for orientation in STORED:
        assert cosine(index.vector(f"turned-{orientation}.jpg"), upright) > 0.99


def test_a_vector_cached_from_the_sideways_decoding_is_not_served(
    turned_folder, tiny_encoder, tmp_path
):
    """Before EXIF orientation was applied, a turned file's vector was cached (under the
    sha256 of its bytes) from its sideways pixels: that vector must not come back."""
    cache = EmbeddingCache(tmp_path / "cache")
    turned = (turned_folder / "turned-6.jpg").read_bytes()
    stored = np.asarray(Image.open(io.BytesIO(turned)).convert("RGB"))  # as decoded before
    stale = tiny_encoder.encode_images([stored])
    cache.put_many(tiny_encoder.fingerprint, [hashlib.sha256(turned).hexdigest()], stale)
    catalogue = FolderCatalogue(turned_folder)
    encoded = encode_catalogue(catalogue, tiny_encoder, cache, progress=False)
    vectors = dict(zip((i.id for i in encoded.items), encoded.vectors))
    assert cosine(vectors["turned-6.jpg"], stale[0]) < 0.98
    assert cosine(vectors["turned-6.jpg"], vectors["upright.jpg"]) > 0.99
    again = encode_catalogue(catalogue, tiny_encoder, cache, progress=False)
    assert encoded.encoded == 4 and again.encoded == 0  # the upright vectors are cached
    assert np.allclose(again.vectors, encoded.vectors)
    cache.close()
