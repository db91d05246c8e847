"""Registry of composition models, each built from a JSON config in `configs/`."""

from __future__ import annotations

import json
from pathlib import Path

from retrieval.compose.base import Composer
from retrieval.encoders import Encoder

CONFIG_DIR = Path(__file__).parent / "configs"
TRAINED_KINDS = ("combiner", "artemis", "pic2word", "cmap")
DEFAULT_COMPOSER = "combiner"  # best exact-item R@10 on `circhat eval single` (README)


def _baseline_kinds() -> dict[str, type[Composer]]:
    from retrieval.compose.baselines import EditedDescription, ImageOnly, TextOnly, WeightedSum

    return {cls.name: cls for cls in (ImageOnly, TextOnly, WeightedSum, EditedDescription)}


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
    """The composition model `name` for an encoder (trained ones load their checkpoint)."""
    config = {**model_config(name), **(overrides or {})}
    kind = config["kind"]
    if kind in TRAINED_KINDS:
        from retrieval.compose.trained import TrainedComposer

        composer = TrainedComposer.load(name, encoder, config)
    elif kind in _baseline_kinds():
        composer = _baseline_kinds()[kind](encoder, config)
    else:
        raise ValueError(f"composition model {name!r} has unknown kind {kind!r}")
    composer.name = name
    return composer


__all__ = ["DEFAULT_COMPOSER", "Composer", "build_composer", "list_models", "model_config"]
