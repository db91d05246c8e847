"""Cached features for training and benchmarking composition models."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from retrieval.catalogues import Catalogue, FmnistColorCatalogue, Subset
from retrieval.encoders import Encoder
from retrieval.indexing.embedding_cache import EmbeddingCache
from retrieval.indexing.local import encode_catalogue
from retrieval.training.phrasebook import Phrasebook
from retrieval.training.triplets import (
    Triplet,
    build_triplets,
    edit_attributes,
    triplets_fingerprint,
)


def catalogue_vectors(
    catalogue: Catalogue, encoder: Encoder, cache: EmbeddingCache | None = None
) -> np.ndarray:
    """(N, D) image vectors of a catalogue, in catalogue order, from the embedding cache."""
    encoded = encode_catalogue(catalogue, encoder, cache, progress=True)
    if len(encoded.items) != len(catalogue):
        raise ValueError(f"{len(encoded.skipped)} images of {catalogue.name} could not be read")
    return encoded.vectors


def text_vectors(
    texts: list[str], encoder: Encoder, cache: EmbeddingCache | None = None
) -> np.ndarray:
    """(N, D) text vectors; each distinct text is encoded once and cached."""
    unique = sorted(set(texts))
    hashes = [hashlib.sha256(f"text:{t}".encode()).hexdigest() for t in unique]
    found = (
        cache.get_many(encoder.fingerprint, hashes) if cache is not None else [None] * len(unique)
    )
    missing = [i for i, v in enumerate(found) if v is None]
    if missing:
        from retrieval.progress import bar as progress_bar

        chunks = [missing[i : i + 4096] for i in range(0, len(missing), 4096)]
        fresh = np.concatenate(
            [
                encoder.encode_texts([unique[i] for i in chunk])
                for chunk in progress_bar(
                    chunks, desc="encode texts", unit="chunk", disable=len(chunks) < 2
                )
            ]
        )
        for i, vector in zip(missing, fresh):
            found[i] = vector
        if cache is not None:
            cache.put_many(encoder.fingerprint, [hashes[i] for i in missing], fresh)
    row = {t: i for i, t in enumerate(unique)}
    table = np.stack(found).astype(np.float32)
    return table[[row[t] for t in texts]]


@dataclass
class TripletFeatures:
    """Everything a composition model trains or is benchmarked on, as arrays."""

    catalogue: Catalogue
    gallery: np.ndarray  # (N, D) image vectors of every catalogue item
    triplets: list[Triplet]
    text: np.ndarray  # (M, D) modification-text vectors
    fingerprint: str  # of the triplets (reference, target, text)

    @cached_property
    def references(self) -> np.ndarray:
        return np.array([t.reference for t in self.triplets])

    @cached_property
    def targets(self) -> np.ndarray:
        return np.array([t.target for t in self.triplets])

    @cached_property
    def attribute_ids(self) -> np.ndarray:
        """(N,) one id per distinct combination of the attributes a request edits."""
        names = edit_attributes(self.catalogue.schema)
        ids: dict[tuple, int] = {}
        return np.array(
            [
                ids.setdefault(tuple(i.attributes.get(n) for n in names), len(ids))
                for i in self.catalogue.items
            ]
        )

    @cached_property
    def texts(self) -> list[str]:
        return [t.text for t in self.triplets]


def triplet_features(
    encoder: Encoder,
    split: str,
    count: int,
    phrasebook: Phrasebook,
    seed: int,
    cache: EmbeddingCache | None = None,
    limit: int | None = None,
) -> TripletFeatures:
    catalogue = FmnistColorCatalogue(split, limit=limit)
    gallery = catalogue_vectors(catalogue, encoder, cache)
    triplets = build_triplets(catalogue, count, phrasebook, seed=seed)
    text = text_vectors([t.text for t in triplets], encoder, cache)
    return TripletFeatures(catalogue, gallery, triplets, text, triplets_fingerprint(triplets))


def catalogue_triplet_features(
    catalogue: Catalogue,
    encoder: Encoder,
    count: int,
    phrasebook: Phrasebook,
    seed: int,
    cache: EmbeddingCache | None = None,
) -> TripletFeatures:
    """Triplets of any catalogue, their targets the visually closest by the encoder's image
    vectors (photos have no colour-free shape to judge by); unreadable images are left out."""
    encoded = encode_catalogue(catalogue, encoder, cache, progress=True)
    if encoded.skipped:
        readable = {item.id for item in encoded.items}
        kept = [i for i, item in enumerate(catalogue.items) if item.id in readable]
        catalogue = Subset(catalogue, kept, "readable")
    gallery = np.asarray(encoded.vectors, np.float32)
    triplets = build_triplets(catalogue, count, phrasebook, seed=seed, similarity=gallery)
    text = text_vectors([t.text for t in triplets], encoder, cache)
    return TripletFeatures(catalogue, gallery, triplets, text, triplets_fingerprint(triplets))
