"""The photo encoder's captions: the shop's own words (title, description) and the values."""

from retrieval.catalogues.base import Item
from retrieval.catalogues.schema import AttributeSpec, CatalogueSchema
from retrieval.training.photo_captions import DESCRIPTION_WORDS, CaptionMaker


def _schema() -> CatalogueSchema:
    attributes = {"colour": AttributeSpec(values=["Navy", "Red"], role="color")}
    return CatalogueSchema(attributes=attributes)


def test_title_and_description_are_captions_of_the_item():
    item = Item(
        "p1",
        {"colour": "Navy"},
        title="Breton Polo",
        description="A striped cotton polo with a ribbed collar. " + "word " * 100,
    )
    captions = CaptionMaker(_schema()).captions(item)
    texts = [text for text, _ in captions]
    assert texts[0] == "Breton Polo"
    assert texts[1].startswith("A striped cotton polo with a ribbed collar.")
    assert len(texts[1].split()) == DESCRIPTION_WORDS
    assert captions[1][1] == {"id": "p1", "colour": "Navy"}


def test_tags_are_a_caption_and_shop_texts_can_be_left_out():
    item = Item("p3", {"colour": "Red"}, title="Polo", tags="linen, v-neck")
    texts = [text for text, _ in CaptionMaker(_schema()).captions(item)]
    assert texts[:2] == ["Polo", "linen, v-neck"]
    values_only = CaptionMaker(_schema(), shop_texts=False).captions(item)
    assert values_only and not {"Polo", "linen, v-neck"} & {text for text, _ in values_only}
    assert all(said.get("id") is None for _, said in values_only)


def test_an_item_without_text_has_only_its_values():
    captions = CaptionMaker(_schema()).captions(Item("p2", {"colour": "Red"}))
    assert captions and all(said.get("id") is None for _, said in captions)
    assert any("red" in text for text, _ in captions)
