"""Options shared by several verbs, declared once as argparse parent parsers."""

from __future__ import annotations

import argparse

from retrieval.catalogues import CatalogueRef
from retrieval.compose import DEFAULT_COMPOSER
from retrieval.encoders import DEFAULT_MODEL

DEFAULT_CATALOGUE = CatalogueRef().source  # the embedded default, fmnist-color
REWRITERS = "rules, openai, smollm2, gemma-270m, gguf:PATH or hybrid:<one of those LLMs>"


class UserError(Exception):
    """A problem with the user's input: printed as one line, exit code 2."""


def _parent() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(add_help=False)


def model(default: str = DEFAULT_MODEL) -> argparse.ArgumentParser:
    parser = _parent()
    if default == DEFAULT_MODEL:
        parser.add_argument("--model", default=default, help="encoder model id (fashion-mini)")
    else:  # 'auto': what `retrieval.prepare` finds or trains for the catalogue
        parser.add_argument(
            "--model",
            default=default,
            help="encoder model id; default 'auto': a folder catalogue's own photo encoder "
            "(trained on first use, with its composition model), else fashion-mini",
        )
    return parser


def catalogue() -> argparse.ArgumentParser:
    parser = _parent()
    parser.add_argument(
        "--catalogue",
        default=DEFAULT_CATALOGUE,
        help="fmnist-color[:train|test], fmnist-color-variants:N or a folder of images",
    )
    parser.add_argument(
        "--metadata", help="the folder's metadata file (default: metadata.csv/.jsonl in it)"
    )
    parser.add_argument("--images", help=IMAGES_HELP)
    return parser


IMAGES_HELP = (
    "the folder of the catalogue's photos, where they live apart from its export (paths in "
    "the export are read relative to it; default: the catalogue folder)"
)


def catalogue_ref(args: argparse.Namespace, part: str | None = None) -> CatalogueRef:
    """The catalogue that `--catalogue`, `--metadata` and `--images` (and a part) name."""
    try:
        return CatalogueRef.parse(
            args.catalogue, args.metadata, part, getattr(args, "images", None)
        )
    except ValueError as err:
        raise UserError(str(err)) from None


def index() -> argparse.ArgumentParser:
    parser = _parent()
    parser.add_argument("--index", help="index folder (default: the catalogue's, built if missing)")
    return parser


def composer() -> argparse.ArgumentParser:
    parser = _parent()
    parser.add_argument(
        "--composer", default=DEFAULT_COMPOSER, help="composition model (circhat models)"
    )
    return parser


def rewriter() -> argparse.ArgumentParser:
    parser = _parent()
    parser.add_argument("--rewriter", default="rules", help=REWRITERS)
    return parser


def json_output() -> argparse.ArgumentParser:
    parser = _parent()
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def composers() -> argparse.ArgumentParser:
    """`--composers` (alias `--models`, its name before 0.2) for the models compared."""
    parser = _parent()
    parser.add_argument(
        "--composers",
        "--models",
        dest="composers",
        help="comma-separated composition models (default: all; --models is the old name)",
    )
    return parser


def positive(name: str, value: int | None, minimum: int = 1) -> int | None:
    if value is not None and value < minimum:
        raise UserError(f"{name} must be at least {minimum}, not {value}")
    return value
