"""The composer kinds: each is one module that declares `KIND`, its config, its composer or
network, and the extra inputs it reads from the reference images.

A config's `kind` names that module: a built-in kind `retrieval/compose/<kind>.py` (a dash
in the name is an underscore in the file), any other an importable module path, so a new
kind is one module plus one JSON config (see `add_model_config`).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import torch

# encoder, B reference images -> {batch key: [(B, ...) tensors]}: what a network reads from
# the reference images beside their vectors (CMAP: its feature-map levels)
ImageInputs = Callable[[object, list], dict[str, list[torch.Tensor]]]


@dataclass(frozen=True)
class ComposerKind:
    """How one kind of composition model is built: a training-free `composer` class, or the
    `module` (network) that a TrainedComposer wraps with its checkpoint."""

    config: type  # a ComposerConfig subclass whose `kind` is this kind's name
    composer: type | None = None  # a Composer subclass, built from (encoder, config, rewriter)
    module: type | None = None  # a ComposerModule subclass, built from (dim, config, encoder)
    image_inputs: ImageInputs | None = None

    @property
    def trainable(self) -> bool:
        return self.module is not None


def kind_module(kind: str) -> str:
    """The module that holds kind `kind`: a built-in one, else `kind` as a module path."""
    built_in = f"{__package__}.{kind.replace('-', '_')}"
    if kind.replace("-", "_").isidentifier() and importlib.util.find_spec(built_in) is not None:
        return built_in
    return kind


@cache
def composer_kind(kind: str) -> ComposerKind:
    """The declaration (`KIND`) of composer kind `kind`; ValueError when no module has one."""
    name = kind_module(kind)
    try:
        found = getattr(importlib.import_module(name), "KIND", None)
    except ModuleNotFoundError as err:
        if err.name != name:
            raise
        found = None
    if not isinstance(found, ComposerKind):
        raise ValueError(
            f"no composer kind {kind!r}: a kind is a module retrieval/compose/<kind>.py, or an "
            "importable module path, that declares KIND = ComposerKind(...)"
        )
    return found
