"""Training verbs: `train encoder` (fashion-mini) and `train composers`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ui.cli import options


def cmd_train_encoder(args: argparse.Namespace) -> int:
    options.positive("--epochs", args.epochs)  # 0 must not mean "the default"
    options.positive("--limit", args.limit)
    if args.catalogue:
        return _train_photo_encoder(args)
    from retrieval.encoders.fashion_mini import DEFAULT_WEIGHTS
    from retrieval.training.fashion_mini import TrainConfig, train

    config = TrainConfig(epochs=args.epochs or 7, seed=args.seed, limit=args.limit)
    out = Path(args.out) if args.out else DEFAULT_WEIGHTS
    metadata = train(config, out)
    print(f"trained fashion-mini in {metadata['train_seconds']} s -> {out}")
    return 0


def _train_photo_encoder(args: argparse.Namespace) -> int:
    """A photo encoder for the user's catalogue: model id photo:OUT."""
    from retrieval.catalogues import FolderCatalogue
    from retrieval.prepare import photo_model_dir
    from retrieval.training.photo_encoder import PhotoTrainSettings, train_photo_encoder
    from retrieval.training.zero_shot import weak_attributes

    catalogue = FolderCatalogue(args.catalogue, args.metadata, args.images)
    out = Path(args.out) if args.out else photo_model_dir(args.catalogue, args.backbone)
    settings = PhotoTrainSettings(backbone=args.backbone, epochs=args.epochs or 30, seed=args.seed)
    card = train_photo_encoder(catalogue, out, settings)
    z = card.figures["zero_shot_accuracy"]
    shown = ", ".join(f"{a} {v:.3f}" for a, v in z.items())
    print(f"trained photo:{out} in {card.train_seconds:.0f} s; zero-shot on the test part: {shown}")
    for name, (accuracy, majority) in weak_attributes(card.figures).items():
        said = "not measured" if accuracy is None else f"{accuracy:.3f}"
        print(
            f"warning: the encoder reads {name} weakly ({said} on the test part, where always "
            f"answering its most common value gives {majority:.3f}): searches by {name} lean "
            "on the metadata; more photos per value or more --epochs may help"
        )
    return 0


def cmd_train_composers(args: argparse.Namespace) -> int:
    from retrieval.encoders import load_encoder
    from retrieval.training.composer_loop import TrainSettings
    from retrieval.training.train_composers import train_composers

    settings = TrainSettings(epochs=args.epochs, seed=args.seed)
    ref = options.catalogue_ref(args)
    catalogue = ref.open() if ref.is_folder else None  # None: fmnist-color's own triplets
    encoder = load_encoder(args.model)
    results = train_composers(encoder, args.only, args.triplets, settings, catalogue)
    for name, meta in results.items():
        if name != "total_seconds":
            print(f"{name:<10} trained in {meta['train_seconds']:>6.1f} s on {meta['train_data']}")
    print(f"all composition models trained in {results['total_seconds']:.1f} s")
    return 0


def register(verbs) -> None:
    train = verbs.add_parser("train", help="train models").add_subparsers(
        dest="action", required=True
    )
    encoder = train.add_parser(
        "encoder",
        help="train fashion-mini, or with --catalogue a photo encoder for that catalogue (CPU)",
    )
    encoder.add_argument(
        "--catalogue", help="a folder of photos: train its own encoder (model id photo:OUT)"
    )
    encoder.add_argument("--metadata", help="the folder's metadata file")
    encoder.add_argument("--images", help=options.IMAGES_HELP)
    encoder.add_argument("--backbone", default="efficientnet-lite0", help="frozen image backbone")
    encoder.add_argument("--epochs", type=int, help="default: 7 (fashion-mini), 30 (photos)")
    encoder.add_argument("--seed", type=int, default=0)
    encoder.add_argument("--limit", type=int, help="train on the first N garments only")
    encoder.add_argument(
        "--out",
        help="fashion-mini: the weights file (default: the packaged one); photos: the model "
        "folder (default: $CIRCHAT_HOME/models/<folder>-<backbone>)",
    )
    encoder.set_defaults(func=cmd_train_encoder)

    composers = train.add_parser(
        "composers",
        parents=[options.catalogue(), options.model()],
        help="train the trainable composition models (for fmnist-color or a folder catalogue)",
    )
    composers.add_argument("--only", nargs="+", help="train only these models")
    composers.add_argument("--triplets", type=int, default=100_000)
    composers.add_argument("--epochs", type=int, default=4)
    composers.add_argument("--seed", type=int, default=0)
    composers.set_defaults(func=cmd_train_composers)
