"""Composer configs: one JSON file per composition model, its `kind` naming the code.

The shipped configs live in `configs/`; `add_model_config` registers more (a file or a
folder of them). A config is validated by its kind's pydantic model; a bad file is refused
with its path and key.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from retrieval.compose.kinds import composer_kind

CONFIG_DIR = Path(__file__).parent / "configs"
_ADDED: dict[str, Path] = {}  # model name -> config file, registered by add_model_config


class ComposerConfig(BaseModel):
    """The keys every composer config has; each kind's config adds its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    description: str = ""
    notes: str = ""

    def __eq__(self, other: object) -> bool:
        """Equal to a config of the same values, or to its JSON form (a checkpoint's record)."""
        if isinstance(other, dict):
            return self.model_dump() == other
        return isinstance(other, ComposerConfig) and self.model_dump() == other.model_dump()

    def __hash__(self) -> int:
        return hash(json.dumps(self.model_dump(), sort_keys=True))


def _config_files() -> dict[str, Path]:
    return {**{p.stem: p for p in CONFIG_DIR.glob("*.json")}, **_ADDED}


def is_shipped(name: str) -> bool:
    """Whether `name` is one of the composition models shipped in `configs/`."""
    return (CONFIG_DIR / f"{name}.json").exists() and name not in _ADDED


def add_model_config(path: str | Path) -> None:
    """Register a composition model's JSON config (or a folder of them), named by its stem."""
    path = Path(path)
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not files or not all(f.is_file() for f in files):
        raise ValueError(f"{path}: no composer config (.json) there")
    _ADDED.update({f.stem: f for f in files})


def list_models() -> list[str]:
    """Names of the registered composition models (one JSON config each)."""
    return sorted(_config_files())


def parse_config(data: dict, where: str) -> ComposerConfig:
    """Validate a config dict by its kind's model; ValueError naming `where` and the first bad key."""
    kind = data.get("kind")
    if not isinstance(kind, str):
        raise ValueError(f"{where}: key 'kind': a string naming the composer kind is required")
    try:
        config_class = composer_kind(kind).config
    except ValueError as err:
        raise ValueError(f"{where}: key 'kind': {err}") from None
    try:
        return config_class.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ValueError(f"{where}: key {key!r}: {first['msg']}") from None


def model_config(name: str, overrides: dict | None = None) -> ComposerConfig:
    """The validated config of composition model `name`, with `overrides` applied."""
    path = _config_files().get(name)
    if path is None:
        raise ValueError(
            f"unknown composition model {name!r}: choose one of {', '.join(list_models())}"
        )
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err.msg}, line {err.lineno})") from None
    return parse_config({**data, **(overrides or {})}, str(path))


def as_config(kind: str, config: ComposerConfig | dict) -> ComposerConfig:
    """A typed config, or `config` as overrides of the shipped config of that kind (the
    JSON of the same name), for building a network by hand."""
    return config if isinstance(config, ComposerConfig) else model_config(kind, config)
