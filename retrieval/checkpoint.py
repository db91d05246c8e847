"""One checkpoint format for every trained network: its weights as safetensors and a JSON
record beside them (`<name>.json`, or a named file such as a photo model's `card.json`) that
holds its config under one key and whatever else describes it (figures, training data)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import ClassVar

from safetensors.torch import load_file, save_file
from torch import nn


def record_file(weights: str | Path) -> Path:
    """Where the record of the weights at `weights` lives by default: `<name>.json` beside them."""
    return Path(weights).with_suffix(".json")


def save_checkpoint(
    module: nn.Module, weights: str | Path, record: dict, record_at: str | Path | None = None
) -> None:
    """Write `module`'s weights to `weights` (safetensors) and `record` as JSON beside them."""
    weights = Path(weights)
    weights.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(weights))
    Path(record_at or record_file(weights)).write_text(json.dumps(record, indent=2) + "\n")


def read_record(weights: str | Path, record_at: str | Path | None = None) -> dict:
    """The JSON record saved with the weights at `weights`."""
    return json.loads(Path(record_at or record_file(weights)).read_text())


def load_weights(module: nn.Module, weights: str | Path) -> nn.Module:
    """`module` with the weights saved at `weights`, in eval mode."""
    module.load_state_dict(load_file(str(weights)))
    return module.eval()


class SavedModule:
    """A mixin for an nn.Module whose constructor takes one `config_class` (a dataclass)
    instance, kept as `self.config` and saved in the record under `config_key`."""

    config_class: ClassVar[type]
    config_key: ClassVar[str] = "config"

    def save(
        self, path: str | Path, metadata: dict | None = None, record_at: str | Path | None = None
    ) -> None:
        record = {self.config_key: asdict(self.config), **(metadata or {})}
        save_checkpoint(self, path, record, record_at)

    @classmethod
    def load(cls, path: str | Path, record_at: str | Path | None = None):
        """(the module saved at `path`, in eval mode; the record saved with it)."""
        info = read_record(path, record_at)
        config = {
            k: tuple(v) if isinstance(v, list) else v for k, v in info[cls.config_key].items()
        }
        return load_weights(cls(cls.config_class(**config)), path), info
