"""eval.recipes and its verbs: a simulated shop is made from a photo catalogue, and each
recipe is trained on it with its figures by role."""

from __future__ import annotations

import json

import pytest
from catalogue_fixtures import write_shape_shop

from eval.recipes import RECIPES_FILE, read_recipes
from ui.cli import main


def test_the_shipped_recipes_name_only_training_settings():
    recipes = read_recipes()
    assert recipes["default"] == {} and len(recipes) >= 5


def test_a_recipe_with_an_unknown_setting_is_named(tmp_path):
    path = tmp_path / "recipes.json"
    path.write_text(json.dumps({"fast": {"epochs": 2, "learning_rate": 1}}))
    with pytest.raises(ValueError, match="recipe 'fast' sets learning_rate"):
        read_recipes(path)
    assert RECIPES_FILE.is_file()


@pytest.mark.slow
def test_make_shop_then_recipes_train_and_report_each_role(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CIRCHAT_HOME", str(tmp_path / "home"))
    source = write_shape_shop(tmp_path / "source", copies=8)
    shop = tmp_path / "shop"
    args = ["--catalogue", str(source), "--out", str(shop), "--kinds", "all", "--seed", "3"]
    assert main(["eval", "make-shop", *args]) == 0
    assert "wrote" in capsys.readouterr().out
    quick = {"epochs": 40, "batch_size": 16, "hidden": 64, "lr": 0.003}
    recipes = tmp_path / "recipes.json"
    recipes.write_text(
        json.dumps({"quick": quick, "quick, 200 steps": {**quick, "min_steps": 200}})
    )
    out = ["--out", str(tmp_path / "models"), "--recipes", str(recipes), "--json"]
    assert main(["eval", "recipes", "--shop", str(shop), *out]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["recipe"] for r in rows] == ["quick", "quick, 200 steps"]
    for row in rows:
        assert row["shop"] == "shop" and row["train_items"] > 0
        assert row["kind"] > 0.5 and row["colour"] > 0.5, rows  # chance: 1/3
    cards = [json.loads(p.read_text()) for p in sorted((tmp_path / "models").glob("*/*/card.json"))]
    assert sorted(c["settings"]["min_steps"] for c in cards) == [0, 200]
