"""One seeded, CPU-friendly training loop for every trainable composition model."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

from retrieval.compose.base import TrainableModule
from retrieval.compose.kinds import ImageInputs
from retrieval.progress import bar as progress_bar
from retrieval.training.features import TripletFeatures
from retrieval.training.triplets import edit_attributes


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 4
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    hard_negatives: int = 8  # same-attribute distractors per triplet: the image side must matter
    lookalike_negatives: int = 4  # the target's colour and pattern in another category, nearest
    attribute_weight: float = 0.5  # a second term: every candidate with the target's attributes
    init_scale: float = 20.0
    image_steps: int = 300  # pic2word trains on images alone, through the frozen text tower
    image_batch_size: int = 128
    self_contrast_weight: float = 0.2
    seed: int = 0


def _rows_by(features: TripletFeatures, key: Callable[[dict], tuple]) -> dict[tuple, np.ndarray]:
    """Catalogue rows grouped by `key` of their attributes, in catalogue order."""
    groups: dict[tuple, list[int]] = {}
    for i, item in enumerate(features.catalogue.items):
        groups.setdefault(key(item.attributes), []).append(i)
    return {k: np.array(v) for k, v in groups.items()}


def _keys(features: TripletFeatures) -> tuple[Callable, Callable, str | None]:
    """(all edited attributes, the appearance ones, the kind): on fmnist-color
    (category, colour, pattern), (colour, pattern) and category."""
    schema = features.catalogue.schema
    names = edit_attributes(schema)
    family = schema.family(schema.kind) if schema.kind else set()
    looks = [n for n in names if n not in family]

    def every(attributes: dict) -> tuple:
        return tuple(attributes.get(n) for n in names)

    def appearance(attributes: dict) -> tuple:
        return tuple(attributes.get(n) for n in looks)

    return every, appearance, schema.kind


def hard_negative_rows(
    features: TripletFeatures, count: int, rng: np.random.Generator
) -> np.ndarray:
    """(M, count) catalogue rows sharing each target's attributes (targets excluded)."""
    every, _, _ = _keys(features)
    groups = _rows_by(features, every)
    items = features.catalogue.items
    rows = np.empty((len(features.triplets), count), dtype=np.int64)
    for i, t in enumerate(features.triplets):
        pool = groups[every(items[t.target].attributes)]
        pool = pool[pool != t.target]
        if len(pool) == 0:
            pool = np.array([t.target])
        rows[i] = rng.choice(pool, count, replace=len(pool) < count)
    return rows


def lookalike_rows(
    features: TripletFeatures, count: int, rng: np.random.Generator, pool_size: int = 64
) -> np.ndarray:
    """(M, count) catalogue rows with each target's appearance (colour and pattern) but
    another kind of item, the nearest to the target's image among `pool_size` drawn: the
    garments an encoder confuses (shirt / t-shirt / pullover / coat), which attribute-level
    retrieval must tell apart."""
    _, appearance, kind = _keys(features)
    items = features.catalogue.items
    pools = _rows_by(features, appearance)
    rows = np.empty((len(features.triplets), count), dtype=np.int64)
    for i, t in enumerate(features.triplets):
        target = items[t.target].attributes
        pool = pools[appearance(target)]
        drawn = rng.choice(pool, min(pool_size, len(pool)), replace=False)
        other = [r for r in drawn if items[r].attributes.get(kind) != target.get(kind)]
        if not other:
            other = [t.target]
        scores = features.gallery[other] @ features.gallery[t.target]
        nearest = np.asarray(other)[np.argsort(-scores, kind="stable")]
        rows[i] = np.resize(nearest[:count], count)
    return rows


def soft_cross_entropy(logits: torch.Tensor, positives: torch.Tensor) -> torch.Tensor:
    """Cross-entropy against every positive of a row at once (weights summing to one)."""
    targets = positives / positives.sum(1, keepdim=True)
    return -(targets * logits.log_softmax(1)).sum(1).mean()


class Batcher:
    """Turns triplet indices into model inputs; caches the extra inputs that a kind reads
    from the reference images (its input hook: cmap's feature-map levels), per catalogue row."""

    def __init__(self, features: TripletFeatures, encoder, image_inputs: ImageInputs | None):
        self.features, self.encoder, self.image_inputs = features, encoder, image_inputs
        self.gallery = torch.from_numpy(features.gallery)
        self.text = torch.from_numpy(features.text)
        self.extra: dict[int, dict[str, list[torch.Tensor]]] = {}  # row -> key -> tensors

    def reference_inputs(self, rows: np.ndarray) -> dict[str, list[torch.Tensor]]:
        missing = sorted({int(r) for r in rows} - self.extra.keys())
        for start in range(0, len(missing), 512):
            chunk = missing[start : start + 512]
            images = [b.image for b in self.features.catalogue.load(chunk)]
            inputs = self.image_inputs(self.encoder, images)
            for j, row in enumerate(chunk):
                self.extra[row] = {k: [t[j].half() for t in ts] for k, ts in inputs.items()}
        first = self.extra[int(rows[0])]
        return {
            key: [
                torch.stack([self.extra[int(r)][key][i].float() for r in rows])
                for i in range(len(ts))
            ]
            for key, ts in first.items()
        }

    def __call__(self, idx: np.ndarray) -> dict:
        f = self.features
        references = f.references[idx]
        batch = {
            "reference": self.gallery[references],
            "text": self.text[idx],
            "texts": [f.texts[i] for i in idx],
        }
        if self.image_inputs is not None:
            batch.update(self.reference_inputs(references))
        return batch


def train_on_triplets(
    model: TrainableModule,
    features: TripletFeatures,
    encoder,
    settings: TrainSettings,
    stage: str | None = None,
    image_inputs: ImageInputs | None = None,
):
    """Contrastive training of query -> target against in-batch targets, items with the
    target's attributes, and lookalikes (its colour and pattern, another category); plus, with
    `attribute_weight`, the same logits scored with every item of the target's attributes as a
    positive: finding that kind of item (attribute recall) matters beside the item itself.
    `image_inputs` is the model kind's input hook (what it reads from the reference images)."""
    rng = np.random.default_rng(settings.seed)
    torch.manual_seed(settings.seed)
    if stage:
        model.stage = stage
    params = model.trainable(stage) if stage else list(model.parameters())
    scale = torch.nn.Parameter(torch.tensor(float(np.log(settings.init_scale))))
    optimizer = torch.optim.AdamW(
        [*params, scale], lr=settings.lr, weight_decay=settings.weight_decay
    )
    negatives = hard_negative_rows(features, settings.hard_negatives, rng)
    if settings.lookalike_negatives:
        lookalikes = lookalike_rows(features, settings.lookalike_negatives, rng)
        negatives = np.concatenate([negatives, lookalikes], axis=1)
    attributes = torch.from_numpy(features.attribute_ids)
    batcher = Batcher(features, encoder, image_inputs)
    steps = len(features.triplets) // settings.batch_size
    model.train()
    bar = progress_bar(
        total=steps * settings.epochs,
        desc=f"train {type(model).__name__}{' ' + stage if stage else ''}",
        unit="step",
    )
    for _ in range(settings.epochs):
        order = rng.permutation(len(features.triplets))
        for step in range(steps):
            idx = order[step * settings.batch_size : (step + 1) * settings.batch_size]
            query = model(batcher(idx))  # (B, D)
            candidate_rows = np.concatenate([features.targets[idx], negatives[idx].ravel()])
            candidates = batcher.gallery[candidate_rows]
            logits = scale.exp().clamp(max=100) * query @ candidates.T
            loss = F.cross_entropy(logits, torch.arange(len(idx)))
            if settings.attribute_weight:
                same = attributes[features.targets[idx]][:, None] == attributes[candidate_rows]
                loss = loss + settings.attribute_weight * soft_cross_entropy(logits, same.float())
            if model.auxiliary_loss is not None:
                loss = loss + settings.self_contrast_weight * model.auxiliary_loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    model.eval()


def train_on_images(model: TrainableModule, gallery: np.ndarray, settings: TrainSettings) -> None:
    """Pic2Word's objective: images alone, no triplets."""
    rng = np.random.default_rng(settings.seed)
    torch.manual_seed(settings.seed)
    scale = torch.nn.Parameter(torch.tensor(float(np.log(settings.init_scale))))
    optimizer = torch.optim.AdamW(
        [*model.parameters(), scale], lr=settings.lr, weight_decay=settings.weight_decay
    )
    images = torch.from_numpy(gallery)
    model.train()
    for _ in progress_bar(
        range(settings.image_steps), desc="train Pic2Word (images only)", unit="step"
    ):
        idx = rng.choice(len(images), settings.image_batch_size, replace=False)
        loss = model.image_loss(images[idx], scale.exp().clamp(max=100))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    model.eval()


def fit(
    model: TrainableModule,
    features: TripletFeatures,
    encoder,
    settings: TrainSettings,
    image_inputs: ImageInputs | None = None,
) -> dict:
    """Train a model by its recipe (`image_inputs`: its kind's input hook); returns metadata
    for the checkpoint."""
    started = time.time()
    if not model.uses_triplets:
        train_on_images(model, features.gallery, settings)
        data = f"{features.catalogue.name} images ({len(features.gallery)}), no triplets"
    else:
        for stage in model.stages:
            train_on_triplets(model, features, encoder, settings, stage, image_inputs)
        data = f"{len(features.triplets)} triplets from {features.catalogue.name}"
    return {
        "train_settings": asdict(settings),
        "train_seconds": round(time.time() - started, 1),
        "train_data": data,
        "data_fingerprint": features.fingerprint,
    }
