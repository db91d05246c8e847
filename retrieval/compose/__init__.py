"""Registry of composition models: each is a JSON config in `configs/` of a registered kind."""

from __future__ import annotations

from dataclasses import dataclass

from retrieval.catalogues import CatalogueRef
from retrieval.compose.base import Composer, ComposerModule
from retrieval.compose.baselines import EditedDescription, ImageOnly, TextOnly, WeightedSum
from retrieval.compose.config import ComposerConfig, list_models, model_config
from retrieval.compose.trained import MODULES, TrainedComposer, new_module
from retrieval.encoders import Encoder

DEFAULT_COMPOSER = "combiner"  # best exact-item R@10 on `circhat eval single` (README)


@dataclass(frozen=True)
class Kind:
    """How a kind of composition model is built: a training-free composer class, or the
    network that a TrainedComposer wraps with its checkpoint."""

    composer: type[Composer] | None = None
    module: type[ComposerModule] | None = None


KINDS: dict[str, Kind] = {
    "image-only": Kind(ImageOnly),
    "text-only": Kind(TextOnly),
    "sum": Kind(WeightedSum),
    "cirevl": Kind(EditedDescription),
    **{name: Kind(module=module) for name, module in MODULES.items()},
}
TRAINED_KINDS = tuple(k for k, kind in KINDS.items() if kind.module is not None)


def build_composer(
    name: str,
    encoder: Encoder,
    overrides: dict | None = None,
    rewriter=None,
    catalogue: CatalogueRef | None = None,
) -> Composer:
    """The composition model `name` for an encoder (trained ones load their checkpoint).

    `rewriter` reads requests into attribute changes, for the models that edit a
    description of the reference (cirevl); the agent passes its own. `catalogue` (the
    index's catalogue) refuses a trained model made for another catalogue.
    """
    config = model_config(name, overrides)
    kind = KINDS[config.kind]
    if kind.module is not None:
        composer = TrainedComposer.load(name, encoder, config, catalogue)
    else:
        composer = kind.composer(encoder, config, rewriter=rewriter)
    composer.name = name
    return composer


def trainable_models() -> list[str]:
    return [n for n in list_models() if model_config(n).kind in TRAINED_KINDS]


__all__ = [
    "DEFAULT_COMPOSER",
    "KINDS",
    "TRAINED_KINDS",
    "Composer",
    "ComposerConfig",
    "build_composer",
    "list_models",
    "model_config",
    "new_module",
    "trainable_models",
]
