"""A new composer kind is one module and one JSON config, outside the project's files."""

import json
import textwrap

import numpy as np
import pytest

from retrieval.compose import (
    add_model_config,
    build_composer,
    composer_kind,
    list_models,
    model_config,
    trainable_models,
)
from retrieval.compose import config as compose_config
from retrieval.compose.trained import TrainedComposer
from retrieval.training.composer_loop import TrainSettings
from retrieval.training.train_composers import train_composer

TINY = TrainSettings(epochs=1, batch_size=32, hard_negatives=2, lookalike_negatives=0)

TINY_KIND = '''
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from retrieval.compose import ComposerConfig, ComposerKind, ComposerModule


class GatedConfig(ComposerConfig):
    kind: Literal["tiny_gated_kind"]
    hidden_dim: int


def brightness(encoder, images):
    """The input hook: each reference image's mean brightness."""
    means = [torch.tensor([float(image.mean()) / 255.0]) for image in images]
    return {"brightness": [torch.stack(means)]}  # [(B, 1)]


class Gated(ComposerModule):
    def __init__(self, dim, config, encoder=None):
        super().__init__()
        self.mix = nn.Sequential(nn.Linear(2 * dim + 1, config.hidden_dim), nn.ReLU(),
                                 nn.Linear(config.hidden_dim, dim))

    def forward(self, batch):
        joint = torch.cat([batch["reference"], batch["text"], batch["brightness"][0]], -1)
        return F.normalize(batch["reference"] + batch["text"] + self.mix(joint), dim=-1)


KIND = ComposerKind(config=GatedConfig, module=Gated, image_inputs=brightness)
'''


@pytest.fixture
def tiny_kind(tmp_path, monkeypatch):
    """A kind module and its config in a temporary folder, registered through the API."""
    (tmp_path / "tiny_gated_kind.py").write_text(textwrap.dedent(TINY_KIND))
    config = {"kind": "tiny_gated_kind", "hidden_dim": 16, "description": "a test kind"}
    (tmp_path / "gated.json").write_text(json.dumps(config))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(compose_config, "_ADDED", {})
    add_model_config(tmp_path / "gated.json")
    yield "gated"
    composer_kind.cache_clear()


def test_a_kind_added_outside_the_project_builds_trains_saves_and_loads(
    tiny_kind, tiny_encoder, tiny_triplets, isolated_home
):
    assert tiny_kind in list_models() and tiny_kind in trainable_models()
    assert model_config(tiny_kind).hidden_dim == 16
    with pytest.raises(FileNotFoundError, match="--only gated"):
        build_composer(tiny_kind, tiny_encoder)  # not trained yet

    module, metadata = train_composer(tiny_kind, tiny_encoder, tiny_triplets, TINY)
    assert metadata["data_fingerprint"] == tiny_triplets.fingerprint
    saved = list(isolated_home.rglob("gated.*"))
    assert sorted(p.suffix for p in saved) == [".json", ".safetensors"]  # not in the package

    loaded = build_composer(tiny_kind, tiny_encoder)
    assert isinstance(loaded, TrainedComposer) and loaded.needs_images
    rows = tiny_triplets.references[:4]
    images = tiny_triplets.catalogue.render(rows)
    texts = tiny_triplets.texts[:4]
    fresh = TrainedComposer(tiny_encoder, model_config(tiny_kind), module)
    after = loaded.compose(tiny_triplets.gallery[rows], texts, images)
    np.testing.assert_array_equal(after, fresh.compose(tiny_triplets.gallery[rows], texts, images))
    np.testing.assert_allclose(np.linalg.norm(after, axis=1), 1.0, atol=1e-5)
    dark = [np.zeros_like(i) for i in images]  # the hook's input changes the query
    assert not np.allclose(after, loaded.compose(tiny_triplets.gallery[rows], texts, dark))


def test_a_config_naming_no_kind_is_refused_with_its_path(tmp_path, monkeypatch):
    monkeypatch.setattr(compose_config, "_ADDED", {})
    (tmp_path / "odd.json").write_text(json.dumps({"kind": "no_such_kind_module"}))
    add_model_config(tmp_path)
    with pytest.raises(ValueError, match=r"odd.json: key 'kind': no composer kind"):
        model_config("odd")


def test_every_shipped_model_names_a_kind_module_with_its_config():
    for name in list_models():
        config = model_config(name)
        kind = composer_kind(config.kind)
        assert isinstance(config, kind.config)
        assert (kind.composer is None) != (kind.module is None)
    assert composer_kind("cmap").image_inputs is not None
    assert composer_kind("combiner").image_inputs is None
