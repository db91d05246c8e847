"""Phrasebooks: JSON files of templates and value phrasings that say an attribute change.

Format: {"templates": {attribute: ["make it {value}", ...]},
         "values": {attribute: {canonical value: ["phrasing", ...]}},
         "joiners": [" and ", ", "]}
A value missing from "values" is said by its canonical name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.catalogues.schema import CatalogueSchema

TRAIN_PHRASEBOOK = Path(__file__).parent / "phrasebooks" / "train.json"
TRAIN_ROLES = Path(__file__).parent / "phrasebooks" / "roles.json"


@dataclass(frozen=True)
class Phrasebook:
    templates: dict[str, list[str]]
    values: dict[str, dict[str, list[str]]]
    joiners: list[str]
    source: str = ""

    @classmethod
    def load(cls, path: str | Path = TRAIN_PHRASEBOOK) -> Phrasebook:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(f"phrasebook {path} not found") from None
        except json.JSONDecodeError as err:
            raise ValueError(
                f"phrasebook {path}: not valid JSON ({err.msg}, line {err.lineno})"
            ) from None
        for key in ("templates", "values", "joiners"):
            if key not in data:
                raise ValueError(f"phrasebook {path}: missing the {key!r} key")
        for attribute, templates in data["templates"].items():
            bad = [t for t in templates if "{value}" not in t]
            if not templates or bad:
                raise ValueError(
                    f"phrasebook {path}: every {attribute} template needs '{{value}}' (got {bad or 'none'})"
                )
        if not data["joiners"]:
            raise ValueError(f"phrasebook {path}: 'joiners' is empty")
        return cls(data["templates"], data["values"], data["joiners"], str(path))

    @classmethod
    def for_schema(cls, schema: CatalogueSchema, roles: str | Path = TRAIN_ROLES) -> Phrasebook:
        """A phrasebook generated from a catalogue's schema: each attribute takes the
        templates of its role (from `roles`, a JSON file), each value is said by its name
        (lower case) or a schema synonym."""
        path = Path(roles)
        data = json.loads(path.read_text(encoding="utf-8"))
        by_role = data["templates"]
        templates = {
            a: by_role.get(schema.role(a) or "", by_role["default"]) for a in schema.categorical
        }
        values = {
            a: {
                v: list(dict.fromkeys([v.lower(), *schema.attributes[a].synonyms.get(v, [])]))
                for v in schema.attributes[a].values
            }
            for a in schema.categorical
        }
        return cls(
            templates, values, data["joiners"], f"{path} for {schema.name or 'the catalogue'}"
        )

    def phrase(self, attribute: str, value: str, rng: np.random.Generator) -> str:
        """One way of asking for `value` of `attribute`."""
        if attribute not in self.templates:
            raise ValueError(f"phrasebook {self.source} has no templates for {attribute!r}")
        words = self.values.get(attribute, {}).get(value) or [value]
        template = self.templates[attribute][rng.integers(len(self.templates[attribute]))]
        return template.format(value=words[rng.integers(len(words))])

    def say(self, changes: dict[str, str], rng: np.random.Generator) -> str:
        """A request for all `changes` ({attribute: new value}) in one sentence."""
        parts = [self.phrase(a, v, rng) for a, v in changes.items()]
        text = parts[0]
        for part in parts[1:]:
            text += self.joiners[rng.integers(len(self.joiners))] + part
        return text
