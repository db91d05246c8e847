"""Locked-image, locked-text tuning for a catalogue of photos (`circhat train encoder --catalogue`).

The frozen backbone's descriptors (computed once, cached by content hash, so a rerun or a
resumed run computes nothing again) are mapped by a small trained head into the frozen MiniLM
text space. Loss: CLIP's symmetric contrastive loss with every in-batch caption an image
satisfies counted as a positive, plus, per attribute, a softmax over the prompts of all its
values (the term that makes zero-shot gender and colour work: without it, 0.39-0.79 and
0.40-0.52 in the research runs). Trained on the train part of the catalogue (split by id),
measured on its test part.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from retrieval.catalogues import Catalogue, CatalogueRef
from retrieval.catalogues.split import SPLIT_RULE, in_test
from retrieval.encoders.photo.backbone import Backbone
from retrieval.encoders.photo.descriptors import Describer
from retrieval.encoders.photo.model import ModelCard, PhotoHead, PhotoHeadConfig, save_model
from retrieval.encoders.text_only import TextOnlyEncoder
from retrieval.indexing.embedding_cache import EmbeddingCache
from retrieval.indexing.local import encode_catalogue
from retrieval.progress import bar as progress_bar
from retrieval.threads import one_torch_thread
from retrieval.training.features import text_vectors
from retrieval.training.photo_captions import CaptionMaker, attribute_prompts
from retrieval.training.photo_training_data import TrainingData, caption_codes
from retrieval.training.zero_shot import (
    TOP_COLOURS,
    attribute_figures,
    rounded,
    top_values_accuracy,
)


@dataclass(frozen=True)
class PhotoTrainSettings:
    backbone: str = "efficientnet-lite0"
    epochs: int = 30
    min_steps: int = 0  # at least this many optimiser steps: more epochs for a small shop
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    init_temperature: float = 0.07
    hidden: int = 1024
    dropout: float = 0.1
    prompt_weight: float = 1.0  # the per-attribute softmax over every value's prompt
    paraphrase_share: float = 0.3  # template slots said by a synonym instead of the value
    shop_texts: bool = True  # the shop's titles, descriptions and tags as captions
    seed: int = 0


class DescriptorStage:
    """The backbone's descriptors behind the indexing stages' encoder API (for caching)."""

    def __init__(self, describer: Describer, parallel: int):
        self.describer, self.dim = describer, describer.dim
        self.fingerprint = describer.fingerprint
        self.batch_size, self.parallel_batches = 64, parallel

    def encode_image_batch(self, images) -> np.ndarray:
        return self.describer.describe([np.asarray(i) for i in images])


def describe_catalogue(catalogue: Catalogue, backbone: str, progress: bool = True):
    """(items, (N, F) descriptors) of every readable photo, through the embedding cache."""
    describer = Describer(Backbone(backbone))
    stage = DescriptorStage(describer, torch.get_num_threads())
    cache = EmbeddingCache()
    try:
        encoded = encode_catalogue(catalogue, stage, cache, progress=progress)
    finally:
        cache.close()
    return encoded.items, np.asarray(encoded.vectors, np.float32)


def _loss(head, data: TrainingData, rows: np.ndarray, rng, settings: PhotoTrainSettings):
    captions = np.array([data.captions_of[r][rng.integers(len(data.captions_of[r]))] for r in rows])
    images = head(data.descriptors[rows])  # (B, D)
    scale = head.logit_scale.clamp(max=np.log(100.0)).exp()
    logits = scale * images @ data.texts[captions].T  # (B, B)
    positive = data.positives(rows, captions) | torch.eye(len(rows), dtype=torch.bool)
    floor = torch.finfo(logits.dtype).min
    by_image = logits.logsumexp(1) - logits.masked_fill(~positive, floor).logsumexp(1)
    by_text = logits.T.logsumexp(1) - logits.T.masked_fill(~positive.T, floor).logsumexp(1)
    loss = (by_image.mean() + by_text.mean()) / 2
    prompts = [
        F.cross_entropy(scale * images @ vectors.T, data.prompt_labels[a][rows], ignore_index=-1)
        for a, vectors in data.prompt_vectors.items()
        if (data.prompt_labels[a][rows] >= 0).any()
    ]
    return loss + settings.prompt_weight * torch.stack(prompts).mean()


def fit_head(data: TrainingData, settings: PhotoTrainSettings, progress: bool = True) -> PhotoHead:
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    head = PhotoHead(
        PhotoHeadConfig(
            data.descriptors.shape[1], settings.hidden, data.texts.shape[1], settings.dropout
        )
    )
    train = data.descriptors[data.train_rows]
    head.mean.copy_(train.mean(0))
    head.std.copy_(train.std(0) + 1e-6)
    head.logit_scale = torch.nn.Parameter(
        torch.tensor(float(np.log(1 / settings.init_temperature)))
    )
    optimizer = torch.optim.AdamW(
        head.parameters(), lr=settings.lr, weight_decay=settings.weight_decay
    )
    per_epoch = int(np.ceil(len(data.train_rows) / settings.batch_size))
    epochs = max(settings.epochs, -(-settings.min_steps // per_epoch))
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=settings.lr, total_steps=per_epoch * epochs, pct_start=0.1
    )
    bar = progress_bar(
        total=per_epoch * epochs,
        desc="train photo head",
        unit="step",
        disable=not progress,
    )
    head.train()
    for _ in range(epochs):
        order = rng.permutation(data.train_rows)
        for start in range(0, len(order), settings.batch_size):
            loss = _loss(head, data, order[start : start + settings.batch_size], rng, settings)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    del head.logit_scale  # a training device only: the encoder's vectors are normalised
    return head.eval()


def measure(head: PhotoHead, data: TrainingData) -> dict:
    """Zero-shot figures on the test part (with the 12 most frequent colours apart)."""
    with torch.inference_mode():
        images = head(data.descriptors[data.test_rows]).numpy()
    labels = {a: [data.labels[a][r] for r in data.test_rows] for a in data.prompt_vectors}
    train = {a: [data.labels[a][r] for r in data.train_rows] for a in data.prompt_vectors}
    prompts = {a: v.numpy() for a, v in data.prompt_vectors.items()}
    figures = attribute_figures(images, prompts, labels, data.values, train)
    for name in data.schema.by_role("color")[:1]:
        frequent = [v for v, _ in Counter(x for x in train[name] if x).most_common(TOP_COLOURS)]
        accuracy = top_values_accuracy(
            images, prompts[name], labels[name], data.values[name], frequent
        )
        figures[f"zero_shot_accuracy_{name}_top_{TOP_COLOURS}"] = rounded(accuracy)
    figures["items"] = {"train": len(data.train_rows), "test": len(data.test_rows)}
    return figures


def train_photo_encoder(
    catalogue: Catalogue,
    out: Path,
    settings: PhotoTrainSettings = PhotoTrainSettings(),
    progress=True,
) -> ModelCard:
    """Train, measure and save a photo encoder for `catalogue` into the folder `out`."""
    started = time.time()
    items, descriptors = describe_catalogue(catalogue, settings.backbone, progress)
    schema = catalogue.schema
    maker = CaptionMaker(schema, settings.paraphrase_share, settings.seed, settings.shop_texts)
    test = np.array([in_test(item) for item in items])
    captions = [maker.captions(item) if not t else [] for item, t in zip(items, test)]
    prompts = attribute_prompts(schema)
    texts = sorted(
        {c for caps in captions for c, _ in caps} | {p for ps in prompts.values() for p in ps}
    )
    cache = EmbeddingCache()
    try:
        vectors = text_vectors(texts, TextOnlyEncoder(), cache)
    finally:
        cache.close()
    one_torch_thread()  # a small head: one thread beats two on a busy 2-core machine
    data = TrainingData.build(schema, items, descriptors, captions, texts, vectors, prompts, test)
    head = fit_head(data, settings, progress)
    figures = measure(head, data)
    card = ModelCard(
        backbone=settings.backbone,
        head={},
        catalogue=CatalogueRef.of(catalogue),
        catalogue_fingerprint=catalogue.fingerprint(),
        schema=schema.model_dump(exclude={"attributes": {"__all__": {"counts"}}}),
        split={"rule": SPLIT_RULE, "train": int((~test).sum()), "test": int(test.sum())},
        settings=asdict(settings),
        figures=figures,
        train_seconds=round(time.time() - started, 1),
        created_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    save_model(Path(out), head, card)
    return card


__all__ = ["PhotoTrainSettings", "caption_codes", "train_photo_encoder"]
