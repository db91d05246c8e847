"""The photo encoder's parts: backbone (weights, runtimes), descriptors, the model folder."""

import numpy as np
import pytest
from catalogue_fixtures import shape_photo
from PIL import Image

from retrieval.encoders.photo.backbone import Backbone
from retrieval.encoders.photo.descriptors import Describer, foreground, hsv_histogram


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    paths = []
    for i, (kind, colour) in enumerate(
        [("Tshirts", "Red"), ("Watches", "Blue"), ("Handbags", "Green")]
    ):
        shape_photo(kind, colour, 0, folder / f"{i}.jpg")
        paths.append(folder / f"{i}.jpg")
    return [np.asarray(Image.open(p).convert("RGB")) for p in paths]


def test_the_foreground_is_the_product_not_its_white_background(photos):
    mask = foreground(photos[0])
    assert mask.shape == (96, 96) and not mask[0, 0] and mask[48, 48]
    assert 0.2 < mask.mean() < 0.5  # the 56 x 58 rectangle of 96 x 96
    histogram = hsv_histogram(photos[0], mask)
    assert histogram.shape == (192,) and float((histogram**2).sum()) == pytest.approx(1.0)
    white = np.full((20, 20, 3), 255, np.uint8)
    assert foreground(white).all()  # nothing but background: the whole photo


def test_descriptors_tell_colours_and_shapes_apart(photos):
    describer = Describer(Backbone(device="cpu"))
    assert describer.dim == 1280 + 40 + 112 + 192
    vectors = describer.describe(photos)
    assert vectors.shape == (3, describer.dim) and np.isfinite(vectors).all()
    colour = vectors[:, -192:]
    assert np.argmax(colour[0]) != np.argmax(colour[1])  # red and blue land in other hue bins


@pytest.mark.slow
def test_onnx_runtime_gives_the_pytorch_maps(photos, isolated_home):
    pytest.importorskip("onnxruntime")
    backbone = Backbone(device="cpu")
    onnx = backbone.maps(photos)
    import torch

    with torch.inference_mode():
        eager = [m.numpy() for m in backbone.network(torch.from_numpy(backbone.preprocess(photos)))]
    assert [m.shape for m in onnx] == [(3, 40, 28, 28), (3, 112, 14, 14), (3, 1280, 7, 7)]
    for a, b in zip(onnx, eager):
        np.testing.assert_allclose(a, b, atol=2e-3)
    import os
    from pathlib import Path

    assert any(p.suffix == ".onnx" for p in Path(os.environ["CIRCHAT_BACKBONE_DIR"]).iterdir())
