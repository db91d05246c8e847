"""Captions of a catalogue's items for training its photo encoder, from the item's attribute
values (by the role of each attribute), the shop's own words (its product title, the
opening of its description and its tags), and paraphrases of the values from the schema's
synonyms and the shipped lexicon (templates: phrasebooks/photo-captions.json)."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from retrieval.catalogues.base import Item
from retrieval.catalogues.schema import CatalogueSchema
from retrieval.catalogues.vocabulary import value_phrases

CAPTIONS_FILE = Path(__file__).parent / "phrasebooks" / "photo-captions.json"
SLOT = re.compile(r"\{(\w+)\}")

Caption = tuple[str, dict[str, str]]  # (text, the attribute values it asserts)


@lru_cache(maxsize=1)
def _data() -> dict:
    return json.loads(CAPTIONS_FILE.read_text(encoding="utf-8"))


def prompt(schema: CatalogueSchema, attribute: str, value: str) -> str:
    """The one-attribute caption of a value: "navy blue", "for men", "casual wear"."""
    prompts = _data()["attribute_prompts"]
    template = prompts.get(schema.role(attribute) or "", prompts["default"])
    return template.format(value=value.lower())


def attribute_prompts(schema: CatalogueSchema) -> dict[str, list[str]]:
    """{attribute: [prompt of each value, in the schema's order]} for the categorical ones."""
    return {
        a: [prompt(schema, a, v) for v in schema.attributes[a].values] for a in schema.categorical
    }


DESCRIPTION_WORDS = 40  # of a description, as a caption: its opening, where the product is said


def description_caption(description: str) -> str:
    """The opening words of a product's description (plain text), up to DESCRIPTION_WORDS."""
    words = description.split()
    return " ".join(words[:DESCRIPTION_WORDS])


class CaptionMaker:
    """Every caption of an item: the shop's own words (`shop_texts`: its title, description
    and tags), the templates its values fill, one prompt per attribute; with
    `paraphrase_share`, some template slots say a value by a synonym."""

    def __init__(
        self,
        schema: CatalogueSchema,
        paraphrase_share: float = 0.3,
        seed: int = 0,
        shop_texts: bool = True,
    ):
        self.schema, self.share, self.shop_texts = schema, paraphrase_share, shop_texts
        self.rng = np.random.default_rng(seed)
        self.roles = {}
        for name in schema.categorical:  # the first attribute of each role fills its slot
            self.roles.setdefault(schema.role(name) or name, name)
        if schema.kind:
            self.roles["kind"] = schema.kind
        self.synonyms = {
            key: list(dict.fromkeys(p.lower() for p in phrases if p.lower() != key[1].lower()))
            for key, phrases in value_phrases(schema).items()
        }
        for name in schema.categorical:
            for value, phrases in schema.attributes[name].synonyms.items():
                self.synonyms.setdefault((name, value), []).extend(p.lower() for p in phrases)

    def _say(self, attribute: str, value: str) -> str:
        others = self.synonyms.get((attribute, value), [])
        if others and self.rng.random() < self.share:
            return others[int(self.rng.integers(len(others)))]
        return value.lower()

    def captions(self, item: Item) -> list[Caption]:
        out: list[Caption] = []
        said = {a: item.attributes[a] for a in self.schema.categorical if item.attributes.get(a)}
        texts = (item.title, description_caption(item.description), item.tags)
        for text in texts if self.shop_texts else ():
            if text:  # the shop's own words: this item (and what it is, for shared names)
                out.append((text, {"id": item.id, **said}))
        for template in _data()["item_templates"]:
            slots = SLOT.findall(template)
            names = [self.roles.get(s) for s in slots]
            if not all(n and item.attributes.get(n) for n in names):
                continue
            said = {s: self._say(n, item.attributes[n]) for s, n in zip(slots, names)}
            out.append((template.format(**said), {n: item.attributes[n] for n in names}))
        for name in self.schema.categorical:
            if item.attributes.get(name):
                value = item.attributes[name]
                out.append((prompt(self.schema, name, value), {name: value}))
        return out
