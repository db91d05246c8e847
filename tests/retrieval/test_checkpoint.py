"""One checkpoint format: every trained network gives identical outputs after save and load."""

import json

import pytest
import torch

from retrieval.checkpoint import read_record
from retrieval.encoders.image_tower import ImageTower, ImageTowerConfig
from retrieval.encoders.photo.model import CARD_FILE, HEAD_FILE, PhotoHead, PhotoHeadConfig
from retrieval.instance.head import DEFAULT_HEAD, InstanceHead, InstanceHeadConfig


def _randomised(module: torch.nn.Module) -> torch.nn.Module:
    torch.manual_seed(0)
    with torch.no_grad():
        for tensor in module.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(torch.randn_like(tensor).abs() + 0.1)
    return module.eval()


@pytest.mark.parametrize(
    "module, inputs",
    [
        (
            ImageTower(ImageTowerConfig(widths=(8, 8, 16, 16), embed_dim=32)),
            torch.randn(2, 3, 64, 64),
        ),
        (
            InstanceHead(InstanceHeadConfig(in_channels=8, widths=(8, 8), grid=2, dim=16)),
            torch.randn(2, 8, 16, 16),
        ),
        (PhotoHead(PhotoHeadConfig(in_dim=12, hidden=24, out_dim=8)), torch.randn(3, 12)),
    ],
)
def test_save_and_load_give_identical_outputs(module, inputs, tmp_path):
    module = _randomised(module)
    path = tmp_path / "net.safetensors"
    module.save(path, {"figures": {"recall": 0.5}})
    loaded, info = type(module).load(path)
    assert loaded.config == module.config and info["figures"] == {"recall": 0.5}
    with torch.no_grad():
        before, after = module(inputs), loaded(inputs)
    for a, b in zip(
        before if isinstance(before, tuple) else [before],
        after if isinstance(after, tuple) else [after],
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_a_photo_head_record_is_its_model_card(tmp_path):
    """A photo model folder keeps `head.safetensors` + `card.json` (config under `head`), as
    the folders users already have."""
    head = _randomised(PhotoHead(PhotoHeadConfig(in_dim=12, hidden=24, out_dim=8)))
    head.save(tmp_path / HEAD_FILE, {"backbone": "b", "catalogue": "c"}, tmp_path / CARD_FILE)
    card = json.loads((tmp_path / CARD_FILE).read_text())
    assert card["head"] == {"in_dim": 12, "hidden": 24, "out_dim": 8, "dropout": 0.1}
    loaded, _ = PhotoHead.load(tmp_path / HEAD_FILE, tmp_path / CARD_FILE)
    x = torch.randn(2, 12)
    torch.testing.assert_close(loaded(x), head(x), rtol=0, atol=0)


def test_committed_weights_read_in_the_one_format():
    record = read_record(DEFAULT_HEAD)
    head, info = InstanceHead.load(DEFAULT_HEAD)
    assert info == record and head.config == InstanceHeadConfig(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in record["config"].items()}
    )
