"""PCA whitening of instance descriptors: what every photo of a shop shares weighs less."""

import numpy as np

from retrieval.instance.whitening import pca_whitening


def _shop(seed: int = 0, styles: int = 40, per_style: int = 3, dim: int = 32):
    """(vectors, styles): each photo is its style's direction plus a strong shift along two
    directions every photo varies in (light, background) and a little noise."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(styles, dim))
    nuisance = rng.normal(size=(2, dim))
    style = np.repeat(np.arange(styles), per_style)
    x = centres[style] + rng.normal(scale=4.0, size=(len(style), 2)) @ nuisance
    x += rng.normal(scale=0.1, size=x.shape)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), style


def _nearest_is_same_style(vectors: np.ndarray, style: np.ndarray) -> float:
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    return float(np.mean(style[similarity.argmax(axis=1)] == style))


def test_whitening_finds_the_style_the_shared_variation_hid():
    vectors, style = _shop()
    whitened = pca_whitening(vectors).apply(vectors)
    assert _nearest_is_same_style(vectors, style) < 0.5
    assert _nearest_is_same_style(whitened, style) > 0.9
    np.testing.assert_allclose(np.linalg.norm(whitened, axis=1), 1.0, atol=1e-5)


def test_whitened_axes_have_unit_variance_and_no_more_than_the_photos_allow():
    vectors, _ = _shop(styles=4, per_style=5)  # 20 photos of 32 dimensions
    whitening = pca_whitening(vectors)
    assert whitening.projection.shape == (32, 19)
    centred = (vectors - whitening.mean) @ whitening.projection
    np.testing.assert_allclose(np.cov(centred, rowvar=False), np.eye(19), atol=1e-3)
