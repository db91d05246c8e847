"""Registry of composition models, each built from a JSON config in `configs/`."""

from __future__ import annotations

import json
from pathlib import Path

from retrieval.compose.base import Composer
from retrieval.encoders import Encoder

CONFIG_DIR = Path(__file__).parent / "configs"


def _kinds() -> dict[str, type[Composer]]:
    from retrieval.compose.baselines import ImageOnly, TextOnly, WeightedSum

    return {cls.name: cls for cls in (ImageOnly, TextOnly, WeightedSum)}


def list_models() -> list[str]:
    """Names of the registered composition models (one JSON config each)."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.json"))


def model_config(name: str) -> dict:
    path = CONFIG_DIR / f"{name}.json"
    if not path.exists():
        raise ValueError(
            f"unknown composition model {name!r}: choose one of {', '.join(list_models())}"
        )
    return json.loads(path.read_text())


def build_composer(name: str, encoder: Encoder, overrides: dict | None = None) -> Composer:
    """The composition model `name` for an encoder, with optional config overrides."""
    config = {**model_config(name), **(overrides or {})}
    kinds = _kinds()
    if config["kind"] not in kinds:
        raise ValueError(f"composition model {name!r} has unknown kind {config['kind']!r}")
    composer = kinds[config["kind"]](encoder, config)
    composer.name = name
    return composer


__all__ = ["Composer", "build_composer", "list_models", "model_config"]
