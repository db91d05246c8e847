"""One seeded, CPU-friendly training loop for every trainable composition model."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from retrieval.compose.data import TripletFeatures


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 4
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    hard_negatives: int = 8  # same-attribute distractors per triplet: the image side must matter
    init_scale: float = 20.0
    image_steps: int = 300  # pic2word trains on images alone, through the frozen text tower
    image_batch_size: int = 128
    self_contrast_weight: float = 0.2
    seed: int = 0


def _same_attribute_groups(features: TripletFeatures) -> dict[tuple, np.ndarray]:
    groups: dict[tuple, list[int]] = {}
    for i, item in enumerate(features.catalogue.items):
        groups.setdefault(tuple(item.attributes.values()), []).append(i)
    return {k: np.array(v) for k, v in groups.items()}


def hard_negative_rows(
    features: TripletFeatures, count: int, rng: np.random.Generator
) -> np.ndarray:
    """(M, count) catalogue rows sharing each target's attributes (targets excluded)."""
    groups = _same_attribute_groups(features)
    items = features.catalogue.items
    rows = np.empty((len(features.triplets), count), dtype=np.int64)
    for i, t in enumerate(features.triplets):
        pool = groups[tuple(items[t.target].attributes.values())]
        pool = pool[pool != t.target]
        if len(pool) == 0:
            pool = np.array([t.target])
        rows[i] = rng.choice(pool, count, replace=len(pool) < count)
    return rows


class Batcher:
    """Turns triplet indices into model inputs; caches reference feature levels for cmap."""

    def __init__(self, features: TripletFeatures, encoder, needs_maps: bool):
        self.features, self.encoder, self.needs_maps = features, encoder, needs_maps
        self.gallery = torch.from_numpy(features.gallery)
        self.text = torch.from_numpy(features.text)
        self.levels: dict[int, list[torch.Tensor]] = {}

    def reference_levels(self, rows: np.ndarray) -> list[torch.Tensor]:
        from retrieval.compose.cmap import pooled_levels

        missing = sorted({int(r) for r in rows} - self.levels.keys())
        for start in range(0, len(missing), 512):
            chunk = missing[start : start + 512]
            levels = pooled_levels(
                self.encoder.feature_maps(list(self.features.catalogue.render(chunk)))
            )
            for j, row in enumerate(chunk):
                self.levels[row] = [lvl[j].half() for lvl in levels]
        depth = len(self.levels[int(rows[0])])
        return [torch.stack([self.levels[int(r)][k].float() for r in rows]) for k in range(depth)]

    def __call__(self, idx: np.ndarray) -> dict:
        f = self.features
        references = f.references[idx]
        batch = {
            "reference": self.gallery[references],
            "text": self.text[idx],
            "texts": [f.texts[i] for i in idx],
        }
        if self.needs_maps:
            batch["levels"] = self.reference_levels(references)
        return batch


def train_on_triplets(
    model, features: TripletFeatures, encoder, settings: TrainSettings, stage: str | None = None
):
    """Contrastive training of query -> target against in-batch and same-attribute negatives."""
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
    batcher = Batcher(features, encoder, getattr(model, "needs_maps", False))
    targets = batcher.gallery[features.targets]
    steps = len(features.triplets) // settings.batch_size
    model.train()
    bar = tqdm(
        total=steps * settings.epochs,
        desc=f"train {type(model).__name__}{' ' + stage if stage else ''}",
        unit="step",
    )
    for _ in range(settings.epochs):
        order = rng.permutation(len(features.triplets))
        for step in range(steps):
            idx = order[step * settings.batch_size : (step + 1) * settings.batch_size]
            query = model(batcher(idx))  # (B, D)
            candidates = torch.cat([targets[idx], batcher.gallery[negatives[idx].ravel()]])
            logits = scale.exp().clamp(max=100) * query @ candidates.T
            loss = F.cross_entropy(logits, torch.arange(len(idx)))
            if hasattr(model, "auxiliary_loss"):
                loss = loss + settings.self_contrast_weight * model.auxiliary_loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    model.eval()


def train_on_images(model, gallery: np.ndarray, settings: TrainSettings) -> None:
    """Pic2Word's objective: images alone, no triplets."""
    rng = np.random.default_rng(settings.seed)
    torch.manual_seed(settings.seed)
    scale = torch.nn.Parameter(torch.tensor(float(np.log(settings.init_scale))))
    optimizer = torch.optim.AdamW(
        [*model.parameters(), scale], lr=settings.lr, weight_decay=settings.weight_decay
    )
    images = torch.from_numpy(gallery)
    model.train()
    for _ in tqdm(range(settings.image_steps), desc="train Pic2Word (images only)", unit="step"):
        idx = rng.choice(len(images), settings.image_batch_size, replace=False)
        loss = model.image_loss(images[idx], scale.exp().clamp(max=100))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    model.eval()


def fit(model, features: TripletFeatures, encoder, settings: TrainSettings) -> dict:
    """Train a model by its recipe; returns metadata for the checkpoint."""
    started = time.time()
    if not getattr(model, "uses_triplets", True):
        train_on_images(model, features.gallery, settings)
        data = f"{features.catalogue.name} images ({len(features.gallery)}), no triplets"
    else:
        for stage in getattr(model, "stages", (None,)):
            train_on_triplets(model, features, encoder, settings, stage)
        data = f"{len(features.triplets)} triplets from {features.catalogue.name}"
    return {
        "train_settings": asdict(settings),
        "train_seconds": round(time.time() - started, 1),
        "train_data": data,
        "data_fingerprint": features.fingerprint,
    }
