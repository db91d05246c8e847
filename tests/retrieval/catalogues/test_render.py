import numpy as np
import pytest

from retrieval.catalogues.fashion_mnist import load_split
from retrieval.catalogues.fmnist_vocab import COLOR_RGB, COLORS, PATTERNS
from retrieval.catalogues.render import render, silhouette, upsample


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
        assert w.mean() - b.mean() > 120  # lines and shading never bring them close


def test_plain_has_no_pattern_lines(garments):
    images, _ = garments
    plain = _render_all(images, "red", "plain").astype(float)
    striped = _render_all(images, "red", "striped").astype(float)
    assert np.abs(plain - striped).max() > 100  # lines are drawn...
    changed = (np.abs(plain - striped).sum(-1) > 30).mean()
    assert 0.0 < changed < 0.2  # ...and cover a small share of the picture


def test_chunked_rendering_equals_one_garment_at_a_time(garments):
    from retrieval.catalogues import render as render_module

    images, _ = garments
    rng = np.random.default_rng(0)
    colors = rng.integers(len(COLORS), size=len(images))
    patterns = rng.integers(len(PATTERNS), size=len(images))
    phases = rng.integers(0, 8, size=(len(images), 2))
    together = render(images, colors, patterns, phases)  # spans two RENDER_CHUNKs
    assert len(images) > render_module.RENDER_CHUNK
    one_by_one = np.concatenate(
        [
            render(images[i : i + 1], colors[i : i + 1], patterns[i : i + 1], phases[i : i + 1])
            for i in range(len(images))
        ]
    )
    assert np.array_equal(together, one_by_one)


def test_pattern_mask_table_equals_drawing_the_masks():
    from retrieval.catalogues.render import _draw_pattern_masks, _pattern_masks

    kinds = np.repeat(np.arange(len(PATTERNS)), 64)
    phases = np.tile(
        np.stack(np.meshgrid(np.arange(8), np.arange(8), indexing="ij"), -1).reshape(-1, 2), (4, 1)
    )
    assert np.array_equal(_pattern_masks(kinds, phases, 64), _draw_pattern_masks(kinds, phases, 64))
    far = phases + 13  # outside the table: drawn directly
    assert np.array_equal(_pattern_masks(kinds, far, 64), _draw_pattern_masks(kinds, far, 64))
