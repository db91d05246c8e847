"""Display images of catalogue items: rendered once, as the photo is shown."""

from __future__ import annotations

import numpy as np
from catalogue_fixtures import STORED, upright_picture, write_turned_photos
from PIL import Image

from retrieval import paths
from retrieval.catalogues import FolderCatalogue
from ui.thumbnails import SCALE, Thumbnails


def test_a_turned_photo_is_shown_upright(tmp_path):
    catalogue = FolderCatalogue(write_turned_photos(tmp_path / "photos"))
    thumbnails = Thumbnails(catalogue, tmp_path / "thumbnails")
    upright = upright_picture().repeat(SCALE, axis=0).repeat(SCALE, axis=1)  # a small render
    for orientation in STORED:
        with Image.open(thumbnails.path(f"turned-{orientation}.jpg")) as shown:
            pixels = np.asarray(shown.convert("RGB"))
        assert pixels.shape == (64 * SCALE, 96 * SCALE, 3)
        assert np.abs(pixels.astype(int) - upright).mean() < 2  # JPEG's loss only


def test_a_sideways_thumbnail_rendered_before_is_not_served(tmp_path):
    """Thumbnails rendered before EXIF orientation was applied sit in a folder named by the
    catalogue's fingerprint alone: the app no longer looks there."""
    catalogue = FolderCatalogue(write_turned_photos(tmp_path / "photos"))
    root = tmp_path / "thumbnails"
    thumbnails = Thumbnails(catalogue, root)
    before = root / paths.safe_name(catalogue.fingerprint())
    before.mkdir(parents=True)
    sideways = Image.fromarray(upright_picture()).transpose(STORED[6])
    sideways.save(before / thumbnails._name("turned-6.jpg", False).name)
    with Image.open(thumbnails.path("turned-6.jpg")) as shown:
        assert shown.size == (96 * SCALE, 64 * SCALE)
    assert thumbnails.folder != before
