"""Training recipes for a shop's photo encoder compared on several shops: each recipe (a set
of `PhotoTrainSettings` changes, `lists/photo_recipes.json`) trained on each shop, and its
zero-shot figures on the shop's test part by role (kind, department, colour) beside the
seconds it took, so that a recipe is chosen by more than one shop's figures."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from pathlib import Path

from retrieval.catalogues.base import Catalogue
from retrieval.training.photo_encoder import PhotoTrainSettings, train_photo_encoder

RECIPES_FILE = Path(__file__).parent / "lists" / "photo_recipes.json"
ROLES = {"kind": None, "department": "gender", "colour": "color"}  # column -> schema role


def read_recipes(path: Path = RECIPES_FILE) -> dict[str, dict]:
    """{name: settings changes}; ValueError naming an unknown setting."""
    recipes = json.loads(Path(path).read_text(encoding="utf-8"))
    known = {f.name for f in fields(PhotoTrainSettings)}
    for name, changes in recipes.items():
        unknown = set(changes) - known
        if unknown:
            raise ValueError(
                f"{path}: recipe {name!r} sets {', '.join(sorted(unknown))}, which are not "
                f"training settings ({', '.join(sorted(known))})"
            )
    return recipes


def role_attributes(catalogue: Catalogue) -> dict[str, str]:
    """{figure column: the catalogue's attribute of that role} (kind: the schema's kind)."""
    schema = catalogue.schema
    out = {"kind": schema.kind} if schema.kind else {}
    for column, role in ROLES.items():
        found = schema.by_role(role) if role else []
        if found:
            out[column] = found[0]
    return out


def compare(
    shops: dict[str, Catalogue], recipes: dict[str, dict], out: Path, progress: bool = True
) -> list[dict]:
    """One row per (shop, recipe): zero-shot accuracy by role and the training seconds."""
    rows = []
    for shop_name, catalogue in shops.items():
        attributes = role_attributes(catalogue)
        for recipe, changes in recipes.items():
            settings = replace(PhotoTrainSettings(), **changes)
            card = train_photo_encoder(
                catalogue, Path(out) / shop_name / recipe, settings, progress
            )
            accuracy = card.figures["zero_shot_accuracy"]
            rows.append(
                {
                    "shop": shop_name,
                    "recipe": recipe,
                    **{col: accuracy.get(attr) for col, attr in attributes.items()},
                    "train_items": card.split["train"],
                    "train_seconds": card.train_seconds,
                }
            )
    return rows


def markdown(rows: list[dict]) -> str:
    columns = ["shop", "recipe", *ROLES, "train_items", "train_seconds"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [row.get(c) for c in columns]
        lines.append(
            "| " + " | ".join(f"{c:.3f}" if isinstance(c, float) else str(c) for c in cells) + " |"
        )
    return "\n".join(lines)


__all__ = ["RECIPES_FILE", "compare", "markdown", "read_recipes", "role_attributes"]
