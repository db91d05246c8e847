"""Composed-retrieval triplets (reference, modification text, target) from catalogue attributes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from retrieval.catalogues import Catalogue
from retrieval.catalogues.fmnist_vocab import ATTRIBUTES
from retrieval.training.phrasebook import Phrasebook


@dataclass(frozen=True)
class Triplet:
    reference: int  # catalogue position
    target: int
    text: str
    changes: tuple[tuple[str, str], ...]  # ((attribute, new value), ...)


def build_triplets(
    catalogue: Catalogue,
    count: int,
    phrasebook: Phrasebook,
    seed: int = 0,
    two_change_share: float = 0.4,
) -> list[Triplet]:
    """`count` triplets: 1 or 2 attributes change; the target keeps the reference's other
    attributes and is the most visually similar such item."""
    rng = np.random.default_rng(seed)
    attrs = [item.attributes for item in catalogue.items]
    by_combo: dict[tuple, list[int]] = {}
    for i, a in enumerate(attrs):
        by_combo.setdefault((a["category"], a["color"], a["pattern"]), []).append(i)
    by_combo_arrays = {k: np.array(v) for k, v in by_combo.items()}
    shapes = catalogue.shape_features()
    names = list(ATTRIBUTES)
    triplets: list[Triplet] = []
    while len(triplets) < count:
        reference = int(rng.integers(len(attrs)))
        n_changes = 2 if rng.random() < two_change_share else 1
        changed = sorted(rng.choice(len(names), n_changes, replace=False))
        new = dict(attrs[reference])
        changes = []
        for a in changed:
            options = [v for v in ATTRIBUTES[names[a]] if v != attrs[reference][names[a]]]
            value = options[rng.integers(len(options))]
            new[names[a]] = value
            changes.append((names[a], value))
        candidates = by_combo_arrays.get((new["category"], new["color"], new["pattern"]))
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
