"""`eval text-probe`: requests judged by the titles, beside the filters' base rate."""

import json

import pytest
from catalogue_fixtures import write_styles_shop

from agent.agent import Agent, AgentConfig
from eval.text_probe import probe, read_requests
from retrieval.catalogues import FolderCatalogue
from retrieval.indexing.gallery import Gallery
from retrieval.indexing.local import build_index


def _write(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_a_bad_line_is_named(tmp_path):
    good = {"request": "brand1 shirts", "title_pattern": "brand1"}
    path = _write(tmp_path / "r.jsonl", [good, {"request": "x", "title_pattern": "("}])
    with pytest.raises(ValueError, match=r"r.jsonl, line 2: not a request"):
        read_requests(path)
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(ValueError, match="holds no requests"):
        read_requests(tmp_path / "empty.jsonl")


def test_the_project_list_reads():
    from pathlib import Path

    path = Path(__file__).parents[2] / "eval/lists/title_requests_fashion_products.jsonl"
    requests = read_requests(path)
    assert len(requests) == 32 and {r.kind for r in requests} == {"brand", "word"}


def test_probe_scores_precision_and_the_base_rate(tmp_path, trained_encoder):
    catalogue = FolderCatalogue(write_styles_shop(tmp_path / "shop"))
    index = build_index(catalogue, trained_encoder, progress=False)
    path = _write(
        tmp_path / "r.jsonl",
        [{"request": "brand1 shirts", "title_pattern": r"\bbrand1\b", "kind": "brand"}],
    )
    fused = probe(
        Agent(Gallery.in_memory(trained_encoder, index), "sum"), read_requests(path), progress=False
    )
    row = fused["requests"][0]
    assert row["base_rate"] == pytest.approx(1 / 3)  # a third of the shirts are Brand1's
    assert row["precision_at_10"] == pytest.approx(0.2)  # the 2 Brand1 shirts of 6 shown
    assert row["text_words"] == ["brand1"]
    assert fused["summary"]["brand"]["gain"] == pytest.approx(0.2 - 1 / 3)
    plain = Agent(
        Gallery.in_memory(trained_encoder, index), "sum", config=AgentConfig(text_search=False)
    )
    assert probe(plain, read_requests(path), progress=False)["requests"][0]["text_words"] == []


def test_held_out_photos_are_ranked_by_the_encoder_alone_and_train_photos_never_count():
    import numpy as np

    from eval.text_probe import TitleRequest, probe_held_out_photos
    from retrieval.catalogues import CatalogueRef
    from retrieval.catalogues.base import Item
    from retrieval.catalogues.split import in_test
    from retrieval.index import SearchIndex, faiss_tools
    from retrieval.index.store import Manifest

    ids = [f"p{n}" for n in range(400)]
    held_out = [i for i in ids if in_test(Item(i))]
    nike = set(held_out[:4]) | {i for i in ids if i not in held_out}  # every train photo
    items = [Item(i, title=("Nike Tee" if i in nike else "Plain Tee")) for i in ids]
    vectors = np.array([[1.0, 0.0] if i in nike else [0.0, 1.0] for i in ids], np.float32)
    manifest = Manifest(
        model_id="synthetic",
        model_fingerprint="x",
        dim=2,
        factory="Flat",
        catalogue=CatalogueRef(source="synthetic"),
        catalogue_fingerprint="x",
        count=len(items),
    )
    index = SearchIndex(faiss_tools.index_vectors(vectors, "Flat"), items, vectors, manifest)

    class WordsAsAxes:  # the text tower: 'nike' on the first axis, anything else the second
        def encode_texts(self, texts):
            return np.array([[1.0, 0.0] if "nike" in t else [0.0, 1.0] for t in texts])

    requests = [TitleRequest(request="nike tee", title_pattern=r"\bnike\b", kind="brand")]
    report = probe_held_out_photos(WordsAsAxes(), index, requests)
    assert report["held_out_photos"] == len(held_out) and 20 < len(held_out) < 200
    row = report["requests"][0]
    assert row["precision_at_10"] == 0.4  # 4 held-out Nike photos, the train ones left out
    assert row["base_rate"] == 4 / len(held_out)
    assert report["summary"]["brand"]["gain"] == 0.4 - 4 / len(held_out)
