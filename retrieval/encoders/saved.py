"""Saving and loading a small torch module built from a dataclass config: its weights as
safetensors, its config and any info as JSON beside them (`<name>.json`)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import ClassVar

from safetensors.torch import load_file, save_file


class SavedModule:
    """A mixin for an nn.Module whose constructor takes one `config_class` instance."""

    config_class: ClassVar[type]

    def save(self, path: str | Path, metadata: dict | None = None) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(path))
        info = {"config": asdict(self.config), **(metadata or {})}
        path.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path):
        """(the module saved at `path`, in eval mode; the info saved with it)."""
        path = Path(path)
        info = json.loads(path.with_suffix(".json").read_text())
        config = {k: tuple(v) if isinstance(v, list) else v for k, v in info["config"].items()}
        module = cls(cls.config_class(**config))
        module.load_state_dict(load_file(str(path)))
        return module.eval(), info
