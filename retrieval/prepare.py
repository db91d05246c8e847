"""From a shop's catalogue to what the chat serves, in one call: its photo encoder, its
composition model, its index and its instance index, each found where an earlier start left
it or made now, with the time each stage took. A later start reuses everything."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.catalogues import CatalogueRef
from retrieval.encoders import DEFAULT_MODEL

log = logging.getLogger(__name__)
AUTO_MODEL = "auto"  # the catalogue's own photo encoder (a folder), else the default model
DEFAULT_BACKBONE = "efficientnet-lite0"
TRIPLETS = 100_000  # composer training triplets (`circhat train composers`' default) ...
TRIPLETS_PER_ITEM = 20  # ... at most this many per item of a small catalogue


@dataclass
class Stage:
    name: str
    seconds: float
    made: bool  # False: found where an earlier start left it, or not made (see note)
    note: str = ""  # why it was not made, where it could not be

    def said(self) -> str:
        done = self.note or ("made" if self.made else "found")
        return f"{self.name}: {done} in {self.seconds:.1f} s"


@dataclass
class Prepared:
    """The model id to serve with, and what each stage did."""

    model_id: str
    stages: list[Stage] = field(default_factory=list)

    def summary(self) -> str:
        """One line a stage: 'photo encoder: trained in 1611.0 s' / 'index: found (0.4 s)'."""
        return "\n".join(s.said() for s in self.stages)


def photo_model_dir(catalogue: str | Path, backbone: str = DEFAULT_BACKBONE) -> Path:
    """Where a folder's own photo encoder is kept: $CIRCHAT_HOME/models/<folder>-<backbone>."""
    from retrieval.paths import home, safe_name

    return home() / "models" / safe_name(f"{Path(catalogue).resolve().name}-{backbone}")


def resolve_model(ref: CatalogueRef, model_id: str) -> str:
    """`auto`: the folder's own photo encoder (photo:DIR), the default model for a built-in
    catalogue; any other id as it is."""
    if model_id != AUTO_MODEL:
        return model_id
    return f"photo:{photo_model_dir(ref.source)}" if ref.is_folder else DEFAULT_MODEL


def prepare(
    ref: CatalogueRef,
    model_id: str = AUTO_MODEL,
    composer: str | None = None,
    index_dir: str | Path | None = None,
    say: Callable[[str], None] = log.info,
) -> Prepared:
    """Make what serving `ref` needs and is missing: with model `auto`, the folder's photo
    encoder and the trainable `composer`'s weights (a model named by the user is served as it
    is: a composer without weights falls back to 'sum'); the index; the instance index."""
    prepared = Prepared(resolve_model(ref, model_id))
    auto = model_id == AUTO_MODEL
    if auto and ref.is_folder:
        _stage(prepared, "photo encoder", say, lambda: _photo_encoder(ref))
    if auto and composer:
        made = lambda: _composer(ref, prepared, composer)  # noqa: E731
        _stage(prepared, f"composition model {composer}", say, made)
    gallery = {}

    def index() -> bool:
        from retrieval.index.store import MANIFEST_FILE
        from retrieval.indexing.gallery import open_gallery

        folder = Path(index_dir) if index_dir else ref.index_dir(prepared.model_id)
        missing = not (folder / MANIFEST_FILE).exists()
        gallery["opened"] = open_gallery(ref, prepared.model_id, folder)
        return missing

    _stage(prepared, "index", say, index)
    _stage(prepared, "instance index", say, lambda: _instance(gallery["opened"]))
    return prepared


def _stage(prepared: Prepared, name: str, say, run: Callable[[], bool | str]) -> None:
    """Run a stage: it returns whether it made its part, or why it could not."""
    say(f"{name} ...")
    started = time.perf_counter()
    outcome = run()
    seconds = round(time.perf_counter() - started, 1)
    stage = Stage(name, seconds, outcome is True, outcome if isinstance(outcome, str) else "")
    prepared.stages.append(stage)
    say(stage.said())


def _photo_encoder(ref: CatalogueRef) -> bool:
    from retrieval.training.photo_encoder import PhotoTrainSettings, train_photo_encoder

    out = photo_model_dir(ref.source)
    if (out / "card.json").exists():
        return False
    train_photo_encoder(ref.whole().open(), out, PhotoTrainSettings(backbone=DEFAULT_BACKBONE))
    return True


def _composer(ref: CatalogueRef, prepared: Prepared, name: str) -> bool | str:
    from retrieval.compose import composer_kind, model_config
    from retrieval.compose.trained import checkpoint_path
    from retrieval.encoders import load_encoder
    from retrieval.training.train_composers import train_composers

    if not composer_kind(model_config(name).kind).trainable:
        return False
    encoder = load_encoder(prepared.model_id)
    if checkpoint_path(name, encoder).exists():
        return False
    catalogue = ref.whole().open() if ref.is_folder else None
    triplets = TRIPLETS if catalogue is None else min(TRIPLETS, TRIPLETS_PER_ITEM * len(catalogue))
    try:
        train_composers(encoder, [name], triplets, catalogue=catalogue)
    except ValueError as err:  # too few items that differ in one or two values
        reason = str(err).split(": ", 1)[-1]
        return f"not trained ({reason}), the chat composes with 'sum'"
    return True


def _instance(gallery) -> bool:
    from retrieval.instance import open_instance_search
    from retrieval.instance.search import INSTANCE_DIR, SETTINGS_FILE

    missing = not (Path(gallery.folder) / INSTANCE_DIR / SETTINGS_FILE).exists()
    open_instance_search(gallery)
    return missing
