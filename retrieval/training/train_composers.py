"""Train every trainable composition model for an encoder and save the checkpoints."""

from __future__ import annotations

import time

from retrieval.catalogues import Catalogue, CatalogueRef
from retrieval.catalogues.split import split
from retrieval.compose import composer_kind, model_config, new_module, trainable_models
from retrieval.compose.trained import checkpoint_path, save_composer
from retrieval.indexing.embedding_cache import EmbeddingCache
from retrieval.training.composer_loop import TrainSettings, fit
from retrieval.training.features import catalogue_triplet_features, triplet_features
from retrieval.training.phrasebook import TRAIN_ROLES, Phrasebook


def training_features(encoder, catalogue: Catalogue | None, triplets: int, seed: int, cache):
    """Train-split triplets of fmnist-color (catalogue None) or of a folder catalogue's train
    part (its split by id), phrased with the training phrasings."""
    if catalogue is None:
        return triplet_features(encoder, "train", triplets, Phrasebook.load(), seed, cache)
    phrasebook = Phrasebook.for_schema(catalogue.schema, TRAIN_ROLES)
    return catalogue_triplet_features(
        split(catalogue, "train"), encoder, triplets, phrasebook, seed, cache
    )


def train_composer(
    name: str,
    encoder,
    features,
    settings: TrainSettings = TrainSettings(),
    catalogue: Catalogue | None = None,
):
    """Fit one trainable model on `features` (TripletFeatures) and save its checkpoint where
    `build_composer` finds it; returns (the trained network, its metadata)."""
    config = model_config(name)
    module = new_module(config, encoder)
    metadata = fit(module, features, encoder, settings, composer_kind(config.kind).image_inputs)
    if catalogue is not None:
        metadata["catalogue"] = CatalogueRef.of(catalogue).whole().model_dump(mode="json")
    save_composer(module, checkpoint_path(name, encoder), name, config, encoder, metadata)
    return module, metadata


def train_composers(
    encoder,
    names: list[str] | None = None,
    triplets: int = 100_000,
    settings: TrainSettings = TrainSettings(),
    catalogue: Catalogue | None = None,
) -> dict[str, dict]:
    """Fit the named (default: all trainable) models on train-split triplets; returns metadata."""
    started = time.time()
    names = names or trainable_models()
    unknown = [n for n in names if n not in trainable_models()]
    if unknown:
        raise ValueError(f"not trainable composition models: {', '.join(unknown)}")
    cache = EmbeddingCache()
    try:
        features = training_features(encoder, catalogue, triplets, settings.seed, cache)
    finally:
        cache.close()
    results = {}
    for name in names:
        _, results[name] = train_composer(name, encoder, features, settings, catalogue)
    results["total_seconds"] = round(time.time() - started, 1)
    return results
