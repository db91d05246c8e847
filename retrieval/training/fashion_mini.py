"""Train the fashion-mini image tower against the frozen MiniLM text tower (locked-text tuning).

Each epoch renders every training garment with a fresh random colour and pattern, so the
tower sees 60,000 new product shots per epoch. Loss: CLIP's symmetric InfoNCE between images
and paraphrased (possibly partial) captions, with every in-batch caption that an image
satisfies counted as a positive; a caption-bank term over all attribute subsets; and a small
regression of the garment's shape (PCA of its pixels) so that embeddings keep the garment's
identity, which composed retrieval needs to find "the same one, in red".
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from retrieval.catalogues import fmnist_vocab as vocab
from retrieval.catalogues.fashion_mnist import load_split
from retrieval.catalogues.render import render
from retrieval.encoders.fashion_mini import DEFAULT_WEIGHTS
from retrieval.encoders.image_tower import ImageTower, ImageTowerConfig
from retrieval.encoders.minilm import MiniLMTextTower
from retrieval.progress import bar as progress_bar
from retrieval.training.captions import paraphrase_bank


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 7
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 0.05
    warmup_steps: int = 200
    paraphrases_per_key: int = 24
    keep_probability: tuple[float, float, float] = (0.85, 0.85, 0.75)  # category, colour, pattern
    shape_components: int = 32
    shape_weight: float = 0.5
    bank_weight: float = 1.0
    init_temperature: float = 0.07
    layout_channels: int = 64
    seed: int = 0
    limit: int | None = None  # train on the first N garments (tests)


def encode_bank(texts: list[list[str]], batch_size: int = 512) -> torch.Tensor:
    """(K, P, D) normalised MiniLM embeddings of the paraphrase bank."""
    tower = MiniLMTextTower()
    flat = [t for group in texts for t in group]
    parts = []
    with torch.inference_mode():
        for i in progress_bar(
            range(0, len(flat), batch_size), desc="encode captions", unit="batch"
        ):
            parts.append(F.normalize(tower(flat[i : i + batch_size]), dim=-1))
    return torch.cat(parts).reshape(len(texts), len(texts[0]), -1)


def shape_basis(garments: np.ndarray, components: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and top principal directions of garment pixels (a colour-free shape descriptor)."""
    rng = np.random.default_rng(seed)
    sample = garments[rng.choice(len(garments), min(10000, len(garments)), replace=False)]
    flat = sample.reshape(len(sample), -1).astype(np.float32) / 255.0
    mean = flat.mean(0)
    _, _, vt = np.linalg.svd(flat - mean, full_matrices=False)
    return mean, vt[:components]


def match_matrix(item_attrs: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """(B, K) float: 1 where item b has every attribute named by key k (-1 = not named)."""
    named = keys >= 0  # (K, 3)
    equal = item_attrs[:, None, :] == keys[None, :, :]  # (B, K, 3)
    return (equal | ~named[None]).all(-1).float()


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, dim: int) -> torch.Tensor:
    targets = targets / targets.sum(dim, keepdim=True)
    return -(targets * logits.log_softmax(dim)).sum(dim).mean()


def data_fingerprint(config: TrainConfig, garments: np.ndarray) -> str:
    digest = hashlib.sha256(garments.tobytes())
    digest.update(json.dumps(asdict(config), sort_keys=True).encode())
    return digest.hexdigest()[:16]


@dataclass
class _Data:
    """What every training step reads: the garments, the caption bank and the shape basis."""

    garments: np.ndarray
    labels: np.ndarray
    keys: list
    bank: torch.Tensor  # (K, P, D)
    key_tensor: torch.Tensor
    key_index: dict
    shape_mean: np.ndarray
    shape_dirs: np.ndarray
    shape_scale: np.ndarray


def _data(config: TrainConfig) -> _Data:
    garments, labels = load_split("train")
    if config.limit:
        garments, labels = garments[: config.limit], labels[: config.limit]
    keys, texts = paraphrase_bank(config.paraphrases_per_key, config.seed)
    bank = encode_bank(texts)  # (K, P, D)
    key_tensor = torch.tensor([[-1 if k is None else k for k in key] for key in keys])
    shape_mean, shape_dirs = shape_basis(garments, config.shape_components, config.seed)
    shape_scale = ((garments[:5000].reshape(-1, 784) / 255.0 - shape_mean) @ shape_dirs.T).std(0)
    key_index = {key: i for i, key in enumerate(keys)}
    return _Data(
        garments, labels, keys, bank, key_tensor, key_index, shape_mean, shape_dirs, shape_scale
    )


def _step_loss(tower, shape_head, logit_scale, data: _Data, batch: tuple, rng, config):
    """(total loss, shape loss) of one batch: rendered images against caption-bank texts."""
    idx, colors, patterns, phases, flips = batch
    garments, bank = data.garments, data.bank
    shapes = np.where(flips[idx, None, None], garments[idx, :, ::-1], garments[idx])
    images = render(shapes, colors[idx], patterns[idx], phases[idx])
    attrs = np.stack([data.labels[idx], colors[idx], patterns[idx]], axis=1)  # (B, 3)

    named = rng.random(attrs.shape) < np.array(config.keep_probability)
    named[~named.any(1), 0] = True
    batch_keys = [
        tuple(int(a) if n else None for a, n in zip(row, m)) for row, m in zip(attrs, named)
    ]
    rows = torch.tensor([data.key_index[k] for k in batch_keys])
    text = bank[rows, torch.from_numpy(rng.integers(bank.shape[1], size=len(idx)))]

    x = tower.preprocess(torch.from_numpy(images))
    image = F.normalize(tower(x), dim=-1)  # (B, D)
    scale = logit_scale.exp().clamp(max=100)
    attr_tensor = torch.from_numpy(attrs)
    positives = match_matrix(attr_tensor, data.key_tensor[rows])  # (B, B)
    logits = scale * image @ text.T
    contrastive = 0.5 * (
        soft_cross_entropy(logits, positives, 1) + soft_cross_entropy(logits, positives, 0)
    )
    step_bank = bank[
        torch.arange(len(data.keys)),
        torch.from_numpy(rng.integers(bank.shape[1], size=len(data.keys))),
    ]
    bank_loss = soft_cross_entropy(
        scale * image @ step_bank.T, match_matrix(attr_tensor, data.key_tensor), 1
    )
    flat = shapes.reshape(len(idx), -1).astype(np.float32) / 255.0
    shape_target = torch.from_numpy(
        ((flat - data.shape_mean) @ data.shape_dirs.T) / data.shape_scale
    ).float()
    shape_loss = F.mse_loss(shape_head(image * 10.0), shape_target)
    loss = contrastive + config.bank_weight * bank_loss + config.shape_weight * shape_loss
    return loss, shape_loss


def train(config: TrainConfig, out: Path = DEFAULT_WEIGHTS) -> dict:
    """Train the image tower and save it to `out` (.safetensors + .json); returns metadata."""
    started = time.time()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    data = _data(config)
    dim = data.bank.shape[-1]
    tower = ImageTower(ImageTowerConfig(embed_dim=dim, layout_channels=config.layout_channels))
    shape_head = torch.nn.Linear(dim, config.shape_components)
    logit_scale = torch.nn.Parameter(torch.tensor(np.log(1 / config.init_temperature)))
    params = [*tower.parameters(), *shape_head.parameters(), logit_scale]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = len(data.garments) // config.batch_size
    total = steps_per_epoch * config.epochs
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: min(1.0, (s + 1) / config.warmup_steps) * 0.5 * (1 + np.cos(np.pi * s / total)),
    )
    progress = progress_bar(total=total, desc="train fashion-mini", unit="step")
    tower.train()
    n = len(data.garments)
    for epoch in range(config.epochs):
        order = rng.permutation(n)
        colors = rng.integers(len(vocab.COLORS), size=n)
        patterns = rng.integers(len(vocab.PATTERNS), size=n)
        phases = rng.integers(0, 8, size=(n, 2))
        flips = rng.random(n) < 0.5
        for step in range(steps_per_epoch):
            idx = order[step * config.batch_size : (step + 1) * config.batch_size]
            batch = (idx, colors, patterns, phases, flips)
            loss, shape_loss = _step_loss(tower, shape_head, logit_scale, data, batch, rng, config)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            progress.update()
            progress.set_postfix(
                epoch=epoch + 1, loss=f"{loss.item():.3f}", shape=f"{shape_loss.item():.2f}"
            )
    progress.close()
    metadata = {
        "train_config": asdict(config),
        "train_seconds": round(time.time() - started, 1),
        "train_data": f"fashion-mnist train split, {len(data.garments)} garments",
        "data_fingerprint": data_fingerprint(config, data.garments),
        "torch": torch.__version__,
    }
    tower.eval().save(out, metadata)
    return metadata
