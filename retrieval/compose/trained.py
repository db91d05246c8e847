"""Composition models with learned weights: checkpoints and the query-time wrapper."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from retrieval.catalogues import CatalogueRef
from retrieval.compose.artemis import Artemis
from retrieval.compose.base import Composer, ComposerModule
from retrieval.compose.cmap import CmapStyle, pooled_levels
from retrieval.compose.combiner import CombinerModel
from retrieval.compose.config import ComposerConfig, parse_config
from retrieval.compose.pic2word import Pic2Word
from retrieval.paths import home, safe_name

PACKAGED_DIR = Path(__file__).parent / "weights"
# the networks of the trainable kinds (the registry's other kinds are training-free)
MODULES: dict[str, type[ComposerModule]] = {
    "combiner": CombinerModel,
    "artemis": Artemis,
    "pic2word": Pic2Word,
    "cmap": CmapStyle,
}


def new_module(config: ComposerConfig, encoder) -> ComposerModule:
    """An untrained network of a trainable kind."""
    return MODULES[config.kind](encoder.dim, config, encoder)


def checkpoint_path(name: str, encoder) -> Path:
    """Packaged weights for the embedded default model; beside a photo model in its folder;
    under $CIRCHAT_HOME for any other encoder."""
    if encoder.model_id == "fashion-mini":
        return PACKAGED_DIR / f"{name}.safetensors"
    if encoder.composer_dir is not None:
        return Path(encoder.composer_dir) / f"{name}.safetensors"
    return home() / "composers" / safe_name(encoder.fingerprint) / f"{name}.safetensors"


def save_checkpoint(
    module: ComposerModule,
    path: Path,
    name: str,
    config: ComposerConfig,
    encoder,
    metadata: dict,
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(path))
    info = {
        "name": name,
        "config": config.model_dump(),
        "encoder": {"model_id": encoder.model_id, "fingerprint": encoder.fingerprint},
        **metadata,
    }
    path.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")


def load_checkpoint(
    path: Path, encoder, config: ComposerConfig | None = None
) -> tuple[ComposerModule, dict]:
    """The module and its metadata; `config` (the model's current config) sets query-time
    settings such as a prompt; without it the config the checkpoint was trained with."""
    info = json.loads(path.with_suffix(".json").read_text())
    if info["encoder"]["fingerprint"] != encoder.fingerprint:
        raise ValueError(
            f"{path.name} was trained for {info['encoder']['model_id']} with other weights: "
            f"retrain it with `circhat train composers --model {encoder.model_id}`"
        )
    module = new_module(config or parse_config(info["config"], str(path)), encoder)
    module.load_state_dict(load_file(str(path)))
    return module.eval(), info


def _catalogue_flags(catalogue: CatalogueRef | None) -> str:
    """' --catalogue PATH [--metadata PATH]' for a folder catalogue's training, else ''."""
    if catalogue is None or not catalogue.is_folder:
        return ""
    return " " + catalogue.whole().command_line()


class TrainedComposer(Composer):
    def __init__(
        self,
        encoder,
        config: ComposerConfig,
        module: ComposerModule | None = None,
        info: dict | None = None,
    ):
        super().__init__(encoder, config)
        self.module, self.info = module, info or {}
        self.needs_images = bool(module is not None and module.needs_maps)

    @classmethod
    def load(
        cls, name: str, encoder, config: ComposerConfig, catalogue: CatalogueRef | None = None
    ) -> TrainedComposer:
        """The trained model `name` for an encoder; with `catalogue` (the index's),
        refused when it was trained for another catalogue."""
        path = checkpoint_path(name, encoder)
        retrain = f"circhat train composers{_catalogue_flags(catalogue)} --model {encoder.model_id}"
        if not path.exists():
            raise FileNotFoundError(
                f"composition model {name!r} has no trained weights for {encoder.model_id}: "
                f"run `{retrain} --only {name}`"
            )
        module, info = load_checkpoint(path, encoder, config)
        stored = info.get("catalogue")
        trained_for = CatalogueRef.read(stored).family if stored else None
        if catalogue and trained_for and trained_for != catalogue.family:
            raise ValueError(
                f"composition model {name!r} of {encoder.model_id} was trained for {trained_for}, "
                f"not {catalogue.family}: retrain it with `{retrain}`"
            )
        return cls(encoder, config, module, info)

    def _compose(self, references: np.ndarray, texts: list[str], images=None) -> np.ndarray:
        batch = {
            "reference": torch.from_numpy(np.ascontiguousarray(references, dtype=np.float32)),
            "text": torch.from_numpy(self.encoder.encode_texts(texts)),
            "texts": texts,
        }
        if self.needs_images:
            batch["levels"] = pooled_levels(self.encoder.feature_maps(list(images)))
        with torch.inference_mode():
            return self.module(batch).float().numpy()
