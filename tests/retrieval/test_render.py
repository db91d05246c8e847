import numpy as np
import pytest

from retrieval.fmnist import load_split
from retrieval.render import render, silhouette, upsample
from retrieval.vocab import COLOR_RGB, COLORS, PATTERNS


@pytest.fixture(scope="module")
def garments():
    images, labels = load_split("test")
    return images[:40], labels[:40]


def _render_all(garments, color, pattern):
    n = len(garments)
    return render(
        garments,
        np.full(n, COLORS.index(color)),
        np.full(n, PATTERNS.index(pattern)),
        np.zeros((n, 2), int),
    )


def test_render_shape_and_determinism(garments):
    images, _ = garments
    a = _render_all(images, "blue", "striped")
    b = _render_all(images, "blue", "striped")
    assert a.shape == (40, 64, 64, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)


def _garment_pixels(images, rendered):
    inside = silhouette(upsample(images, 64)) > 0.99
    return [image[mask] for image, mask in zip(rendered.astype(float), inside)]


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("color", COLORS)
def test_named_colour_covers_two_thirds_of_the_garment(garments, color, pattern):
    images, _ = garments
    palette = np.array([COLOR_RGB[c] for c in COLORS], float)
    for pixels in _garment_pixels(images, _render_all(images, color, pattern)):
        nearest = np.linalg.norm(pixels[:, None, :] - palette[None], axis=-1).argmin(1)
        share = (nearest == COLORS.index(color)).mean()
        assert share >= 2 / 3, (color, pattern, share)


def test_black_striped_differs_from_white_striped(garments):
    images, _ = garments
    black = _garment_pixels(images, _render_all(images, "black", "striped"))
    white = _garment_pixels(images, _render_all(images, "white", "striped"))
    for b, w in zip(black, white):
        assert w.mean() - b.mean() > 150


def test_plain_has_no_pattern_lines(garments):
    images, _ = garments
    plain = _render_all(images, "red", "plain").astype(float)
    striped = _render_all(images, "red", "striped").astype(float)
    assert np.abs(plain - striped).max() > 100  # lines are drawn...
    changed = (np.abs(plain - striped).sum(-1) > 30).mean()
    assert 0.0 < changed < 0.2  # ...and cover a small share of the picture
