"""Composition models with learned weights: checkpoints and the query-time wrapper."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from retrieval.catalogues import CatalogueRef
from retrieval.checkpoint import load_weights, read_record, save_checkpoint
from retrieval.compose.base import Composer, ComposerModule
from retrieval.compose.config import ComposerConfig, is_shipped, parse_config
from retrieval.compose.kinds import composer_kind
from retrieval.encoders import DEFAULT_MODEL
from retrieval.paths import home, safe_name

PACKAGED_DIR = Path(__file__).parent / "weights"


def new_module(config: ComposerConfig, encoder) -> ComposerModule:
    """An untrained network of a trainable kind."""
    kind = composer_kind(config.kind)
    if kind.module is None:
        raise ValueError(f"composer kind {config.kind!r} has no network to train")
    return kind.module(encoder.dim, config, encoder)


def checkpoint_path(name: str, encoder) -> Path:
    """Packaged weights for a shipped model of the embedded default encoder; beside a photo
    model in its folder; under $CIRCHAT_HOME for any other encoder or model."""
    if encoder.model_id == DEFAULT_MODEL and is_shipped(name):
        return PACKAGED_DIR / f"{name}.safetensors"
    if encoder.composer_dir is not None:
        return Path(encoder.composer_dir) / f"{name}.safetensors"
    return home() / "composers" / safe_name(encoder.fingerprint) / f"{name}.safetensors"


def save_composer(
    module: ComposerModule,
    path: Path,
    name: str,
    config: ComposerConfig,
    encoder,
    metadata: dict,
) -> None:
    """A trained network in the checkpoint format, its record naming the model, its config
    and the encoder (weights) it was trained for."""
    record = {
        "name": name,
        "config": config.model_dump(),
        "encoder": {"model_id": encoder.model_id, "fingerprint": encoder.fingerprint},
        **metadata,
    }
    save_checkpoint(module, path, record)


def load_composer(
    path: Path, encoder, config: ComposerConfig | None = None
) -> tuple[ComposerModule, dict]:
    """The module and its record; `config` (the model's current config) sets query-time
    settings such as a prompt; without it the config the checkpoint was trained with."""
    info = read_record(path)
    if info["encoder"]["fingerprint"] != encoder.fingerprint:
        raise ValueError(
            f"{path.name} was trained for {info['encoder']['model_id']} with other weights: "
            f"retrain it with `circhat train composers --model {encoder.model_id}`"
        )
    module = new_module(config or parse_config(info["config"], str(path)), encoder)
    return load_weights(module, path), info


def _catalogue_flags(catalogue: CatalogueRef | None) -> str:
    """' --catalogue PATH [--metadata PATH]' for a folder catalogue's training, else ''."""
    if catalogue is None or not catalogue.is_folder:
        return ""
    return " " + catalogue.whole().command_line()


def _shown(catalogue: CatalogueRef) -> str:
    """A catalogue as the flags that name it (`--catalogue /shop --metadata /shop/m.csv`)."""
    whole = catalogue.whole()
    return f"`{whole.command_line()}`" if whole.is_folder else whole.display_name


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
        self.image_inputs = composer_kind(config.kind).image_inputs
        self.needs_images = self.image_inputs is not None

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
        module, info = load_composer(path, encoder, config)
        stored = info.get("catalogue")
        trained_for = CatalogueRef.read(stored) if stored else None
        if catalogue and trained_for and trained_for.family != catalogue.family:
            raise ValueError(
                f"composition model {name!r} of {encoder.model_id} was trained for "
                f"{_shown(trained_for)}, not {_shown(catalogue)}: retrain it with `{retrain}`"
            )
        return cls(encoder, config, module, info)

    def _compose(self, references: np.ndarray, texts: list[str], images=None) -> np.ndarray:
        batch = {
            "reference": torch.from_numpy(np.ascontiguousarray(references, dtype=np.float32)),
            "text": torch.from_numpy(self.encoder.encode_texts(texts)),
            "texts": texts,
        }
        if self.needs_images:
            batch.update(self.image_inputs(self.encoder, list(images)))
        with torch.inference_mode():
            return self.module(batch).float().numpy()
