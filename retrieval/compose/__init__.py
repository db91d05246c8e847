"""Registry of composition models: each is a JSON config whose `kind` names the code that
builds it (retrieval/compose/<kind>.py, or a module of its own: see compose/kinds.py)."""

from __future__ import annotations

from retrieval.catalogues import CatalogueRef
from retrieval.compose.base import Composer, ComposerModule
from retrieval.compose.config import ComposerConfig, add_model_config, list_models, model_config
from retrieval.compose.kinds import ComposerKind, composer_kind
from retrieval.compose.trained import TrainedComposer, new_module
from retrieval.encoders import Encoder

DEFAULT_COMPOSER = "combiner"  # best exact-item R@10 on `circhat eval single` (README)


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
    kind = composer_kind(config.kind)
    if kind.trainable:
        composer = TrainedComposer.load(name, encoder, config, catalogue)
    else:
        composer = kind.composer(encoder, config, rewriter=rewriter)
    composer.name = name
    return composer


def trainable_models() -> list[str]:
    return [n for n in list_models() if composer_kind(model_config(n).kind).trainable]


__all__ = [
    "DEFAULT_COMPOSER",
    "Composer",
    "ComposerConfig",
    "ComposerKind",
    "ComposerModule",
    "add_model_config",
    "build_composer",
    "composer_kind",
    "list_models",
    "model_config",
    "new_module",
    "trainable_models",
]
