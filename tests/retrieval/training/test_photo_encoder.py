"""A photo encoder trained for a tiny catalogue: it learns, its card round-trips, its id loads."""

import json

import numpy as np
import pytest
from catalogue_fixtures import write_shape_shop

from retrieval.catalogues import FolderCatalogue
from retrieval.encoders import load_encoder
from retrieval.encoders.photo.model import read_card
from retrieval.training.photo_encoder import PhotoTrainSettings, train_photo_encoder

QUICK = PhotoTrainSettings(epochs=40, batch_size=16, hidden=64, lr=3e-3)


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    folder = write_shape_shop(tmp_path_factory.mktemp("shapes"), copies=5)
    return FolderCatalogue(folder)


@pytest.fixture(scope="module")
def trained(shop, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "shapes-lite0"
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CIRCHAT_HOME", str(home))
        card = train_photo_encoder(shop, out, QUICK, progress=False)
    return out, card


def test_training_beats_chance_on_the_held_out_part(trained):
    _, card = trained
    zero_shot = card.figures["zero_shot_accuracy"]
    assert card.split["test"] + card.split["train"] == 45 and card.split["test"] > 0
    assert zero_shot["articleType"] > 0.5 and zero_shot["baseColour"] > 0.5  # chance: 1/3


def test_the_model_card_round_trips_and_the_id_resolves(trained, shop):
    out, card = trained
    again = read_card(out)
    assert again == card and again.backbone == "efficientnet-lite0"
    assert again.catalogue.name == shop.name and again.split["rule"].startswith("test iff")
    assert json.loads((out / "card.json").read_text())["schema"]["kind"] == "articleType"
    encoder = load_encoder(f"photo:{out}")
    assert encoder.model_id == f"photo:{out}" and encoder.dim == 384
    images = [b.image for b in shop.load([0, 1])]
    vectors = encoder.encode_images(images)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    texts = encoder.encode_texts(["a red tshirts", "blue"])
    assert texts.shape == (2, 384)


def test_a_missing_model_folder_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="circhat train encoder --catalogue"):
        load_encoder(f"photo:{tmp_path / 'nothing'}")


def test_composers_are_refused_for_another_catalogue(trained, tmp_path):
    from retrieval.catalogues import CatalogueRef
    from retrieval.compose import model_config, new_module
    from retrieval.compose.trained import TrainedComposer, checkpoint_path, save_composer

    out, _ = trained
    encoder = load_encoder(f"photo:{out}")
    config = model_config("artemis")
    path = checkpoint_path("artemis", encoder)
    assert path.parent == out / "composers"
    shop_a_test = CatalogueRef(source="/shop-a", part="test")
    shop_b = CatalogueRef(source="/shop b", metadata="/shop b/styles.csv")
    for stored in ("folder:/shop-a", CatalogueRef(source="/shop-a").model_dump(mode="json")):
        module = new_module(config, encoder)
        save_composer(module, path, "artemis", config, encoder, {"catalogue": stored})
        assert TrainedComposer.load("artemis", encoder, config, shop_a_test).module
        with pytest.raises(ValueError, match="trained for `--catalogue /shop-a`, not") as e:
            TrainedComposer.load("artemis", encoder, config, shop_b)
        pasted = "--catalogue '/shop b' --metadata '/shop b/styles.csv'"
        assert f"not `{pasted}`" in str(e.value) and f"{pasted} --model" in str(e.value)
        assert "folder:" not in str(e.value)  # every catalogue named as the flags one pastes


def test_other_colours_work_on_a_photo_catalogue(trained, shop, tmp_path):
    from retrieval.indexing.local import build_index
    from retrieval.instance.store import build_instance, descriptor_encoder

    out, _ = trained
    encoder = load_encoder(f"photo:{out}")
    build_index(shop, encoder, progress=False).save(tmp_path / "index")
    descriptor = descriptor_encoder(encoder)  # GeM of the backbone's last map, grey
    assert descriptor.stages == (len(encoder.feature_widths) - 1,)
    search = build_instance(tmp_path / "index", shop, descriptor, progress=False)
    first = shop.items[0]
    answer = search.other_colours(first.id, k=4)
    assert len(answer) == 4 and first.id not in {i for i, _ in answer}
    same_shape = [shop.items[shop.index_of(i)].attributes["articleType"] for i, _ in answer]
    assert same_shape.count(first.attributes["articleType"]) >= 2  # shapes, whatever colour


def test_weak_attributes_are_those_read_little_better_than_the_majority():
    from retrieval.training.zero_shot import weak_attributes

    figures = {
        "zero_shot_accuracy": {"kind": 0.888, "colour": 0.45, "season": 0.62, "usage": None},
        "majority_rate": {"kind": 0.21, "colour": 0.2, "season": 0.55, "usage": 0.9},
    }
    # colour: under half right; season: 0.62 closes 16% of the way from 0.55 to 1; usage:
    # not measured; kind: well above its majority rate
    assert weak_attributes(figures) == {
        "colour": (0.45, 0.2),
        "season": (0.62, 0.55),
        "usage": (None, 0.9),
    }


@pytest.mark.slow
def test_train_encoder_prints_the_held_out_figures_and_warns_of_weak_ones(
    shop, tmp_path, monkeypatch, capsys
):
    from retrieval.training.zero_shot import weak_attributes
    from ui.cli import main

    monkeypatch.setenv("CIRCHAT_HOME", str(tmp_path / "home"))
    out = tmp_path / "model"
    argv = ["train", "encoder", "--catalogue", str(shop.root), "--out", str(out), "--epochs", "1"]
    assert main(argv) == 0
    said = capsys.readouterr().out.splitlines()
    figures = read_card(out).figures
    accuracy = figures["zero_shot_accuracy"]
    assert any(f"articleType {accuracy['articleType']:.3f}" in line for line in said)
    warned = {line.split(" weakly")[0].rsplit(" ", 1)[-1] for line in said if "weakly" in line}
    assert warned and warned == set(weak_attributes(figures))  # one step: near chance
