"""Train the instance head on Fashion-MNIST TRAIN garments: two renders of a garment in random
colourways are a positive pair, the other garments of the batch its negatives (NT-Xent).

The benchmark's test garments are never seen; the last `holdout` train garments are kept out
to validate. Run: `python -m retrieval.instance.training [--steps N] [--out PATH]`.
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import asdict, dataclass

import faiss
import numpy as np
import torch
from torch import nn

from retrieval.catalogues import fmnist_vocab as vocab
from retrieval.catalogues.fashion_mnist import load_split
from retrieval.catalogues.render import PHASES, render
from retrieval.instance.descriptors import stem_map
from retrieval.instance.head import DEFAULT_HEAD, InstanceHead, InstanceHeadConfig
from retrieval.instance.ranking import drop_query, map_and_precision

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeadTraining:
    steps: int = 1500
    batch: int = 128  # garments per step (two renders each)
    same_category: float = 0.5  # share of a batch drawn from one category (hard negatives)
    lr: float = 3e-3
    weight_decay: float = 1e-4
    temperature: float = 0.07
    holdout: int = 2000  # last train garments, for validation only
    variants: int = 5  # renders per held-out garment when validating
    seed: int = 0


def random_renders(garments: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """(N, size, size, 3) uint8: each garment in a random colour, pattern and phase."""
    n = len(garments)
    colors = rng.integers(len(vocab.COLORS), size=n)
    patterns = rng.integers(len(vocab.PATTERNS), size=n)
    return render(garments, colors, patterns, rng.integers(0, PHASES, size=(n, 2)), size)


def nt_xent(z: torch.Tensor, temperature: float) -> torch.Tensor:
    """NT-Xent of (2B, D) unit rows where rows i and i + B are one garment's two renders."""
    n = len(z) // 2
    logits = z @ z.T / temperature  # (2B, 2B)
    logits.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])
    return nn.functional.cross_entropy(logits, target)


def _batch_garments(labels: np.ndarray, plan: HeadTraining, rng) -> np.ndarray:
    """Garment rows of one batch: part from one random category, the rest from any."""
    hard = int(plan.batch * plan.same_category)
    category = rng.integers(labels.max() + 1)
    pool = np.flatnonzero(labels == category)
    rows = rng.choice(pool, hard, replace=False)
    rest = rng.choice(len(labels), plan.batch - hard, replace=False)
    return np.concatenate([rows, rest])


def describe(tower, head: InstanceHead, images: np.ndarray, chunk: int = 512) -> np.ndarray:
    """(N, dim) unit descriptors of uint8 images (tower and head in eval mode)."""
    out = []
    with torch.inference_mode():
        for a in range(0, len(images), chunk):
            batch = tower.preprocess(torch.from_numpy(images[a : a + chunk]))
            z = head(stem_map(tower, batch, head.config.stage))
            out.append(nn.functional.normalize(z, dim=1).numpy())
    return np.concatenate(out)


def validate(tower, head, garments: np.ndarray, plan: HeadTraining, size: int) -> dict:
    """mAP / precision@10 over held-out garments x `plan.variants` seeded renders."""
    rng = np.random.default_rng([plan.seed, 99])
    images = np.concatenate([random_renders(garments, rng, size) for _ in range(plan.variants)])
    groups = np.tile(np.arange(len(garments)), plan.variants)
    vectors = describe(tower, head.eval(), images)
    queries = rng.choice(len(images), min(500, len(images)), replace=False)
    _, found = faiss.knn(vectors[queries], vectors, 101, faiss.METRIC_INNER_PRODUCT)
    return map_and_precision(drop_query(found, queries, 100), groups, queries)


def train_head(
    encoder, plan: HeadTraining = HeadTraining(), config: InstanceHeadConfig = InstanceHeadConfig()
) -> tuple[InstanceHead, dict]:
    """Train an instance head on `encoder`'s frozen stem (fashion-mini); returns it and a report."""
    from retrieval.progress import bar

    torch.manual_seed(plan.seed)
    rng = np.random.default_rng([plan.seed, 18])
    garments, labels = load_split("train")
    train_g, train_l = garments[: -plan.holdout], labels[: -plan.holdout]
    tower, size = encoder.image_tower.float().eval(), encoder.image_tower.config.image_size
    head = InstanceHead(config)
    optimiser = torch.optim.AdamW(head.parameters(), plan.lr, weight_decay=plan.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, plan.lr, total_steps=plan.steps)
    started, losses = time.time(), []
    for _ in (progress := bar(range(plan.steps), desc="train instance head", unit="step")):
        rows = _batch_garments(train_l, plan, rng)
        pair = np.concatenate([random_renders(train_g[rows], rng, size) for _ in range(2)])
        with torch.no_grad():
            maps = stem_map(tower, tower.preprocess(torch.from_numpy(pair)), config.stage)
        head.train()
        loss = nt_xent(nn.functional.normalize(head(maps), dim=1), plan.temperature)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(loss.item())
        progress.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
    report = {
        "validation": validate(tower, head, garments[-plan.holdout :], plan, size),
        "train_seconds": round(time.time() - started, 1),
        "final_loss": round(float(np.mean(losses[-50:])), 4),
        "training": asdict(plan),
        "trained_on": f"Fashion-MNIST train garments 0..{len(train_g) - 1} (test never seen)",
        "tower_fingerprint": encoder.fingerprint,
    }
    return head.eval(), report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="train the instance head (Fashion-MNIST train)")
    parser.add_argument("--steps", type=int, default=HeadTraining.steps)
    parser.add_argument("--batch", type=int, default=HeadTraining.batch)
    parser.add_argument("--out", default=str(DEFAULT_HEAD))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from retrieval.encoders import load_encoder

    plan = HeadTraining(steps=args.steps, batch=args.batch)
    head, report = train_head(load_encoder("fashion-mini", "cpu"), plan)
    head.save(args.out, report)
    log.info("saved %s: validation %s", args.out, report["validation"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
