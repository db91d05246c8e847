"""Typed composer configs: one pydantic model per kind, told apart by the `kind` key.

The JSON files in `configs/` give every value; a bad file is refused with its path and key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

CONFIG_DIR = Path(__file__).parent / "configs"


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    notes: str = ""

    def __eq__(self, other: object) -> bool:
        """Equal to a config of the same values, or to its JSON form (a checkpoint's record)."""
        if isinstance(other, dict):
            return self.model_dump() == other
        return isinstance(other, _Config) and self.model_dump() == other.model_dump()

    def __hash__(self) -> int:
        return hash(json.dumps(self.model_dump(), sort_keys=True))


class ImageOnlyConfig(_Config):
    kind: Literal["image-only"]


class TextOnlyConfig(_Config):
    kind: Literal["text-only"]


class SumConfig(_Config):
    kind: Literal["sum"]
    image_weight: float  # query = w * image + (1 - w) * text


class CirevlConfig(_Config):
    kind: Literal["cirevl"]
    image_weight: float  # fraction of the reference added to the edited description
    keep_unparsed: bool  # append the request's unmapped words to the description


class CombinerConfig(_Config):
    kind: Literal["combiner"]
    adapter_hidden: int
    projection_dim: int
    hidden_dim: int
    dropout: float


class ArtemisConfig(_Config):
    kind: Literal["artemis"]
    hidden_dim: int


class Pic2WordConfig(_Config):
    kind: Literal["pic2word"]
    hidden_dim: int
    dropout: float
    train_prompt: str
    query_prompt: str
    pseudo_scale: float  # length of the spliced pseudo word at query time (1 = as trained)


class CmapConfig(_Config):
    kind: Literal["cmap"]
    hidden_dim: int
    heads: int
    dropout: float
    self_contrast_temperature: float


CONFIG_CLASSES: tuple[type[_Config], ...] = (
    ImageOnlyConfig,
    TextOnlyConfig,
    SumConfig,
    CirevlConfig,
    CombinerConfig,
    ArtemisConfig,
    Pic2WordConfig,
    CmapConfig,
)
ComposerConfig = Annotated[Union[CONFIG_CLASSES], Field(discriminator="kind")]  # noqa: UP007
_ADAPTER: TypeAdapter = TypeAdapter(ComposerConfig)


def list_models() -> list[str]:
    """Names of the registered composition models (one JSON config each)."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.json"))


def parse_config(data: dict, where: str) -> ComposerConfig:
    """Validate a config dict; ValueError naming `where` and the first bad key."""
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ValueError(f"{where}: key {key!r}: {first['msg']}") from None


def model_config(name: str, overrides: dict | None = None) -> ComposerConfig:
    """The validated config of composition model `name`, with `overrides` applied."""
    path = CONFIG_DIR / f"{name}.json"
    if not path.exists():
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
    return config if isinstance(config, _Config) else model_config(kind, config)
