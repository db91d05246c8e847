import json

import numpy as np
import pytest
import torch
from PIL import Image

from retrieval.encoders import HubUnavailableError, load_encoder
from retrieval.encoders.fashion_mini import FashionMiniEncoder
from retrieval.encoders.image_tower import ImageTower

TINY_OPEN_CLIP = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "patch_size": 16, "head_width": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


def _images(n=3, size=64):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (size, size, 3), dtype=np.uint8) for _ in range(n)]


def _assert_unit_rows(vectors, n, dim):
    assert vectors.shape == (n, dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_fashion_mini_round_trip_gives_identical_vectors(tiny_encoder, tmp_path):
    images = _images()
    before = tiny_encoder.encode_images(images)
    copy = tmp_path / "copy.safetensors"
    tiny_encoder.image_tower.save(copy, {"note": "round trip"})
    tower, info = ImageTower.load(copy)
    assert info["note"] == "round trip"
    after = FashionMiniEncoder(copy, device="cpu").encode_images(images)
    np.testing.assert_array_equal(before, after)
    _assert_unit_rows(before, 3, 384)


def test_fashion_mini_accepts_pil_and_other_sizes(tiny_encoder):
    array = _images(1, 64)[0]
    from_array = tiny_encoder.encode_images([array])
    from_pil = tiny_encoder.encode_images([Image.fromarray(array)])
    np.testing.assert_allclose(from_array, from_pil, atol=1e-6)
    _assert_unit_rows(tiny_encoder.encode_images([_images(1, 200)[0]]), 1, 384)


def test_text_tower_matches_sentence_transformers(tiny_encoder):
    from sentence_transformers import SentenceTransformer

    from retrieval.encoders.minilm import minilm_path

    texts = ["a red striped dress", "navy sneakers", "x"]
    reference = SentenceTransformer(str(minilm_path()), device="cpu").encode(
        texts, normalize_embeddings=True
    )
    np.testing.assert_allclose(tiny_encoder.encode_texts(texts), reference, atol=1e-5)


def test_empty_batches_and_bad_text_input(tiny_encoder):
    assert tiny_encoder.encode_texts([]).shape == (0, 384)
    with pytest.raises(TypeError):
        tiny_encoder.encode_texts("one string")


@pytest.fixture(scope="module")
def tiny_open_clip(tmp_path_factory):
    import open_clip
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("openclip")
    (folder / "tiny-test-clip.json").write_text(json.dumps(TINY_OPEN_CLIP))
    open_clip.add_model_config(folder / "tiny-test-clip.json")
    torch.manual_seed(0)
    model = open_clip.create_model("tiny-test-clip", pretrained=None)
    weights = folder / "tiny.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(weights))
    return weights, model


def test_open_clip_from_local_safetensors(tiny_open_clip):
    weights, model = tiny_open_clip
    encoder = load_encoder(f"open_clip:tiny-test-clip/{weights}", device="cpu")
    assert encoder.dim == 32
    images = encoder.encode_images(_images(2))
    texts = encoder.encode_texts(["a red dress", "blue shoes"])
    _assert_unit_rows(images, 2, 32)
    _assert_unit_rows(texts, 2, 32)
    import open_clip

    with torch.no_grad():
        expected = model.eval().encode_text(
            open_clip.get_tokenizer("tiny-test-clip")(["a red dress"])
        )
    np.testing.assert_allclose(
        texts[0], torch.nn.functional.normalize(expected, dim=-1)[0], atol=1e-5
    )


def test_open_clip_hub_tag_offline_is_one_clear_line(monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(HubUnavailableError) as info:
        load_encoder.__wrapped__("open_clip:RN50/openai", device="cpu")
    message = str(info.value)
    assert "\n" not in message and "RN50/openai" in message and ".safetensors" in message


def _tiny_hf_clip_folder(folder):
    """A random-initialised transformers CLIP saved locally, with a tokenizer built from
    the BPE vocabulary that open_clip ships (no download)."""
    import gzip

    from open_clip.tokenizer import default_bpe
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPTokenizer

    with gzip.open(default_bpe()) as f:
        merges = f.read().decode("utf-8").split("\n")[1 : 49152 - 256 - 2 + 1]
    vocab = list(_bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab] + ["".join(m.split()) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt")).save_pretrained(folder)
    config = CLIPConfig(
        text_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_attention_heads": 2,
            "num_hidden_layers": 2,
            "vocab_size": len(vocab),
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_attention_heads": 2,
            "num_hidden_layers": 2,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=24,
    )
    torch.manual_seed(0)
    CLIPModel(config).save_pretrained(folder)
    CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    ).save_pretrained(folder)


def _bytes_to_unicode():
    from open_clip.tokenizer import bytes_to_unicode

    return bytes_to_unicode()


def test_hf_clip_from_local_folder(tmp_path):
    _tiny_hf_clip_folder(tmp_path)
    encoder = load_encoder(f"hf-clip:{tmp_path}", device="cpu")
    assert encoder.dim == 24
    _assert_unit_rows(encoder.encode_images(_images(2)), 2, 24)
    texts = encoder.encode_texts(["a red dress", "a red dress", "striped shoes"])
    _assert_unit_rows(texts, 3, 24)
    np.testing.assert_allclose(texts[0], texts[1], atol=1e-6)
    assert not np.allclose(texts[0], texts[2])


def test_unknown_model_id_names_the_choices():
    with pytest.raises(ValueError, match="fashion-mini, open_clip"):
        load_encoder("clipper:foo")
