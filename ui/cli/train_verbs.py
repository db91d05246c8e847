"""Training verbs: `train encoder` (fashion-mini) and `train composers`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ui.cli import options


def cmd_train_encoder(args: argparse.Namespace) -> int:
    from retrieval.encoders.fashion_mini import DEFAULT_WEIGHTS
    from retrieval.training.fashion_mini import TrainConfig, train

    config = TrainConfig(epochs=args.epochs, seed=args.seed, limit=args.limit)
    out = Path(args.out) if args.out else DEFAULT_WEIGHTS
    metadata = train(config, out)
    print(f"trained fashion-mini in {metadata['train_seconds']} s -> {out}")
    return 0


def cmd_train_composers(args: argparse.Namespace) -> int:
    from retrieval.encoders import load_encoder
    from retrieval.training.composer_loop import TrainSettings
    from retrieval.training.train_composers import train_composers

    settings = TrainSettings(epochs=args.epochs, seed=args.seed)
    results = train_composers(load_encoder(args.model), args.only, args.triplets, settings)
    for name, meta in results.items():
        if name != "total_seconds":
            print(f"{name:<10} trained in {meta['train_seconds']:>6.1f} s on {meta['train_data']}")
    print(f"all composition models trained in {results['total_seconds']:.1f} s")
    return 0


def register(verbs) -> None:
    train = verbs.add_parser("train", help="train models").add_subparsers(
        dest="action", required=True
    )
    encoder = train.add_parser("encoder", help="train the fashion-mini image tower (CPU, minutes)")
    encoder.add_argument("--epochs", type=int, default=7)
    encoder.add_argument("--seed", type=int, default=0)
    encoder.add_argument("--limit", type=int, help="train on the first N garments only")
    encoder.add_argument("--out", help="weights file (default: the packaged fashion-mini weights)")
    encoder.set_defaults(func=cmd_train_encoder)

    composers = train.add_parser(
        "composers", parents=[options.model()], help="train the trainable composition models"
    )
    composers.add_argument("--only", nargs="+", help="train only these models")
    composers.add_argument("--triplets", type=int, default=100_000)
    composers.add_argument("--epochs", type=int, default=4)
    composers.add_argument("--seed", type=int, default=0)
    composers.set_defaults(func=cmd_train_composers)
