"""Composed-retrieval triplets (reference, modification text, target) from catalogue attributes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from retrieval.catalogues import Catalogue
from retrieval.catalogues.schema import CatalogueSchema
from retrieval.training.phrasebook import Phrasebook

MAX_DRAWS_PER_TRIPLET = 200  # give up when the catalogue's combinations are this sparse


@dataclass(frozen=True)
class Triplet:
    reference: int  # catalogue position
    target: int
    text: str
    changes: tuple[tuple[str, str], ...]  # ((attribute, new value), ...)


def edit_attributes(schema: CatalogueSchema) -> list[str]:
    """The attributes a request changes: the categorical ones, less those the kind implies
    (a new articleType brings its own subCategory and masterCategory)."""
    return [n for n in schema.categorical if n not in schema.ancestors_of_kind()]


def build_triplets(
    catalogue: Catalogue,
    count: int,
    phrasebook: Phrasebook,
    seed: int = 0,
    two_change_share: float = 0.4,
    similarity: np.ndarray | None = None,
) -> list[Triplet]:
    """`count` triplets: 1 or 2 attributes change; the target keeps the reference's other
    attributes and is the most visually similar such item (by `similarity`, (N, F) unit rows:
    the catalogue's colour-free shapes where it has them, else the caller's image vectors)."""
    shapes = catalogue.shape_features() if similarity is None else similarity
    if shapes is None:
        raise ValueError(f"{catalogue.name}: give build_triplets the items' image vectors")
    schema = catalogue.schema
    names = edit_attributes(schema)
    rng = np.random.default_rng(seed)
    attrs = [item.attributes for item in catalogue.items]
    by_combo: dict[tuple, list[int]] = {}
    for i, a in enumerate(attrs):
        by_combo.setdefault(tuple(a.get(n) for n in names), []).append(i)
    by_combo_arrays = {k: np.array(v) for k, v in by_combo.items()}
    triplets: list[Triplet] = []
    draws = 0
    while len(triplets) < count:
        draws += 1
        if draws > MAX_DRAWS_PER_TRIPLET * count:
            raise ValueError(
                f"{catalogue.name}: only {len(triplets)} of {count} triplets found: too few "
                "items share all but one or two attribute values"
            )
        reference = int(rng.integers(len(attrs)))
        n_changes = 2 if rng.random() < two_change_share else 1
        changed = sorted(rng.choice(len(names), n_changes, replace=False))
        new = dict(attrs[reference])
        changes = []
        for a in changed:
            values = schema.attributes[names[a]].values
            options = [v for v in values if v != attrs[reference].get(names[a])]
            if not options:  # an attribute with one value: nothing to change it to
                break
            value = options[rng.integers(len(options))]
            new[names[a]] = value
            changes.append((names[a], value))
        if len(changes) < n_changes:
            continue
        candidates = by_combo_arrays.get(tuple(new.get(n) for n in names))
        if candidates is None or len(candidates) == 0:
            continue
        target = int(candidates[np.argmax(shapes[candidates] @ shapes[reference])])
        text = phrasebook.say(dict(changes), rng)
        triplets.append(Triplet(reference, target, text, tuple(changes)))
    return triplets


def triplets_fingerprint(triplets: list[Triplet]) -> str:
    digest = hashlib.sha256()
    for t in triplets:
        digest.update(f"{t.reference}|{t.target}|{t.text}\n".encode())
    return digest.hexdigest()[:16]
