"""The `circhat` command line: each verb is a plain function also callable from Python.

Verbs live in small modules by subject; the options several verbs share are declared once,
as argparse parent parsers (`ui/cli/options.py`): argparse is the standard library, already
what the verbs use, and parents remove the repetition without a new dependency.
"""

from __future__ import annotations

import argparse
import logging
import sys

from retrieval import progress
from retrieval.encoders.errors import HubUnavailableError
from ui.cli import (
    api_verbs,
    bench_verbs,
    catalogue_verbs,
    eval_verbs,
    serve_verbs,
    train_verbs,
)
from ui.cli.options import UserError

__all__ = ["UserError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="circhat", description="conversational image search")
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="no progress bars or notes, only results"
    )
    verbs = parser.add_subparsers(dest="verb", required=True)
    for module in (catalogue_verbs, eval_verbs, bench_verbs, train_verbs, serve_verbs, api_verbs):
        module.register(verbs)
    return parser


def configure_logging(quiet: bool) -> None:
    """circhat's library messages go to stderr as 'circhat: ...'; --quiet keeps errors only."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("circhat: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.ERROR if quiet else logging.INFO)
    for noisy in ("httpx", "urllib3", "gradio", "httpcore", "matplotlib", "PIL", "faiss"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.quiet)
    progress.set_quiet(args.quiet)
    try:
        return args.func(args)
    except (UserError, ValueError, FileNotFoundError, KeyError, HubUnavailableError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"circhat: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        print(f"circhat: {err or 'interrupted'}", file=sys.stderr)
        return 130
