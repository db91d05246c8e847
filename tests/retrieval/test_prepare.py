"""One call from a catalogue to what the chat serves; a later call finds everything."""

import pytest
from catalogue_fixtures import write_styles_shop

from retrieval.catalogues import CatalogueRef
from retrieval.encoders import DEFAULT_MODEL
from retrieval.prepare import AUTO_MODEL, photo_model_dir, prepare, resolve_model


def _made(prepared) -> dict[str, bool]:
    return {s.name: s.made for s in prepared.stages}


def test_auto_is_the_folders_own_encoder_or_the_default():
    assert resolve_model(CatalogueRef(), AUTO_MODEL) == DEFAULT_MODEL
    shop = CatalogueRef(source="/shops/acme")
    assert resolve_model(shop, AUTO_MODEL) == f"photo:{photo_model_dir('/shops/acme')}"
    assert resolve_model(shop, "fashion-mini") == "fashion-mini"


def test_index_and_instance_index_are_made_once(tmp_path, tiny_weights):
    ref = CatalogueRef(source=str(write_styles_shop(tmp_path / "shop")))
    model = f"fashion-mini:{tiny_weights}"
    said = []
    first = prepare(ref, model, say=said.append)
    assert _made(first) == {"index": True, "instance index": True}
    assert "index: made in" in "\n".join(said) and first.model_id == model
    again = prepare(ref, model)
    assert _made(again) == {"index": False, "instance index": False}
    assert "instance index: found in" in again.summary()


@pytest.mark.slow
def test_a_shop_folder_gets_its_own_encoder_and_composer(tmp_path):
    ref = CatalogueRef(source=str(write_styles_shop(tmp_path / "shop")))
    first = prepare(ref, AUTO_MODEL, composer="combiner")
    assert first.model_id == f"photo:{photo_model_dir(ref.source)}"
    assert _made(first) == {
        "photo encoder": True,
        "composition model combiner": True,
        "index": True,
        "instance index": True,
    }
    again = prepare(ref, AUTO_MODEL, composer="combiner")
    assert not any(_made(again).values()) and again.model_id == first.model_id


@pytest.mark.slow
def test_a_shop_too_small_for_a_composer_is_served_with_sum(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent / "catalogues"))
    from shop_exports import write_shopify

    export = write_shopify(tmp_path / "shop")
    ref = CatalogueRef(source=str(export.parent), metadata=str(export))
    prepared = prepare(ref, AUTO_MODEL, composer="combiner")
    composer = next(s for s in prepared.stages if s.name == "composition model combiner")
    assert not composer.made and composer.note.startswith("not trained (only 0 of")
    assert "the chat composes with 'sum'" in prepared.summary()
    assert _made(prepared)["index"] and _made(prepared)["photo encoder"]
