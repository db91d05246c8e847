import json

import numpy as np
import pytest
import torch

from retrieval.compose import build_composer, composer_kind, list_models, new_module
from retrieval.compose.artemis import Artemis
from retrieval.compose.trained import TrainedComposer, load_composer, save_composer
from retrieval.training.composer_loop import (
    TrainSettings,
    fit,
)

ALL_MODELS = ["artemis", "cirevl", "cmap", "combiner", "image-only", "pic2word", "sum", "text-only"]
TINY = TrainSettings(epochs=1, batch_size=32, hard_negatives=2, image_steps=3, image_batch_size=16)


def test_registry_lists_every_model_from_its_config():
    assert list_models() == ALL_MODELS


def test_unknown_model_names_the_choices(tiny_encoder):
    with pytest.raises(ValueError, match="choose one of artemis"):
        build_composer("tirg", tiny_encoder)


def _vectors(n, dim=384, seed=0):
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_baselines_compose_as_documented(tiny_encoder):
    refs = _vectors(2)
    texts = ["make it red", "with stripes"]
    text_vecs = tiny_encoder.encode_texts(texts)
    np.testing.assert_allclose(
        build_composer("image-only", tiny_encoder).compose(refs, texts), refs, atol=1e-6
    )
    np.testing.assert_allclose(
        build_composer("text-only", tiny_encoder).compose(refs, texts), text_vecs, atol=1e-6
    )
    summed = 0.3 * refs + 0.7 * text_vecs
    expected = summed / np.linalg.norm(summed, axis=1, keepdims=True)
    np.testing.assert_allclose(
        build_composer("sum", tiny_encoder).compose(refs, texts), expected, atol=1e-6
    )
    weighted = build_composer("sum", tiny_encoder, {"image_weight": 0.9}).compose(refs, texts)
    assert not np.allclose(weighted, expected)


def test_rows_without_reference_are_text_search_and_without_text_image_search(tiny_encoder):
    composer = build_composer("sum", tiny_encoder)
    refs = _vectors(2)
    refs[0] = 0
    out = composer.compose(refs, ["a red dress", ""])
    np.testing.assert_allclose(out[0], tiny_encoder.encode_texts(["a red dress"])[0], atol=1e-6)
    np.testing.assert_allclose(out[1], refs[1], atol=1e-6)
    with pytest.raises(ValueError, match="needs a reference image, a text"):
        composer.compose(np.zeros((1, 384), np.float32), ["  "])


def test_artemis_collapsed_query_equals_pairwise_score():
    torch.manual_seed(0)
    model = Artemis(16, {"hidden_dim": 8}).eval()
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.5)
    r, m, t = (torch.nn.functional.normalize(torch.randn(5, 16), dim=-1) for _ in range(3))
    query = model({"reference": r, "text": m})
    collapsed = (query * t).sum(-1)
    pairwise = model.pairwise_score(r, m, t).detach()
    np.testing.assert_allclose(collapsed.detach(), pairwise, rtol=1e-5, atol=1e-6)
    # and for every target against every query, as a search would score them
    full = (query @ t.T).detach()
    for i in range(5):
        for j in range(5):
            pair = model.pairwise_score(r[i : i + 1], m[i : i + 1], t[j : j + 1]).detach()
            assert float(full[i, j]) == pytest.approx(float(pair), rel=1e-5, abs=1e-6)


def test_pseudo_word_splice_matches_the_real_word(tiny_encoder):
    word = tiny_encoder.text_tower.input_embeddings().weight[
        tiny_encoder.text_tower.tokenizer.convert_tokens_to_ids("red")
    ]
    spliced = tiny_encoder.encode_with_pseudo_words(["a * dress"], word[None])
    plain = tiny_encoder.text_tower(["a red dress"])
    torch.testing.assert_close(spliced, plain, rtol=1e-5, atol=1e-5)


def test_pic2word_query_splices_the_scaled_pseudo_word(tiny_encoder):
    from retrieval.compose.pic2word import Pic2Word

    config = {"query_prompt": "a photo of * that is {text}", "pseudo_scale": 0.25}
    model = Pic2Word(tiny_encoder.dim, config, tiny_encoder).eval()
    reference = torch.from_numpy(_vectors(2, tiny_encoder.dim))
    with torch.no_grad():
        query = model({"reference": reference, "texts": ["red", "striped"]})
        pseudo = model.mapping(reference)
        by_hand = tiny_encoder.encode_with_pseudo_words(
            ["a photo of * that is red", "a photo of * that is striped"], 0.25 * pseudo
        )
        full = model.encode_prompts(["a photo of * that is red"] * 2, reference)
    torch.testing.assert_close(query, torch.nn.functional.normalize(by_hand, dim=-1))
    assert not torch.allclose(query[0], full[0], atol=1e-3)  # the scale changes the query


@pytest.mark.parametrize("name", ["combiner", "artemis", "pic2word", "cmap"])
def test_trained_models_round_trip_through_save_and_load(
    name, tiny_encoder, tiny_triplets, tmp_path
):
    from retrieval.compose import model_config

    config = model_config(name)
    module = new_module(config, tiny_encoder)
    metadata = fit(
        module, tiny_triplets, tiny_encoder, TINY, composer_kind(config.kind).image_inputs
    )
    path = tmp_path / f"{name}.safetensors"
    save_composer(module, path, name, config, tiny_encoder, metadata)
    info = json.loads(path.with_suffix(".json").read_text())
    assert info["config"] == config and info["data_fingerprint"] == tiny_triplets.fingerprint
    assert info["encoder"]["fingerprint"] == tiny_encoder.fingerprint
    loaded, _ = load_composer(path, tiny_encoder)
    before = TrainedComposer(tiny_encoder, config, module)
    after = TrainedComposer(tiny_encoder, config, loaded)
    rows = tiny_triplets.references[:4]
    images = tiny_triplets.catalogue.render(rows)
    texts = tiny_triplets.texts[:4]
    a = before.compose(tiny_triplets.gallery[rows], texts, images)
    b = after.compose(tiny_triplets.gallery[rows], texts, images)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)


def test_checkpoint_for_other_weights_is_refused(tiny_encoder, tiny_triplets, tmp_path):
    from retrieval.compose import model_config

    config = model_config("artemis")
    module = new_module(config, tiny_encoder)
    path = tmp_path / "artemis.safetensors"

    class Other:
        model_id, fingerprint, dim = "fashion-mini", "other-weights", 384

    save_composer(module, path, "artemis", config, Other(), {})
    with pytest.raises(ValueError, match="retrain it"):
        load_composer(path, tiny_encoder)


def test_cmap_needs_reference_images(tiny_encoder, tiny_triplets):
    from retrieval.compose import model_config

    config = model_config("cmap")
    composer = TrainedComposer(tiny_encoder, config, new_module(config, tiny_encoder).eval())
    with pytest.raises(ValueError, match="needs the reference images"):
        composer.compose(tiny_triplets.gallery[:1], ["make it red"])
