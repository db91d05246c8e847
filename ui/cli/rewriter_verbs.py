"""`circhat eval rewriters`: the rule, LLM and hybrid rewriters side by side
(eval/rewriter_bench.py)."""

from __future__ import annotations

import argparse
import json

from ui.cli import options


def cmd_eval_rewriters(args: argparse.Namespace) -> int:
    from eval.rewriter_bench import render, run
    from retrieval.encoders import load_encoder

    result = run(args, load_encoder(args.model))
    print(json.dumps(result) if args.json else render(result))
    return 0


def register(evaluate) -> None:
    """Add `rewriters` to the `eval` verb's subparsers."""
    from eval.rewriter_bench import add_arguments

    rewriters = evaluate.add_parser(
        "rewriters",
        parents=[options.model(), options.json_output()],
        help="rules, LLM and hybrid rewriters on the held-out, fashion-products and Fashion IQ "
        "lists: accuracy, invalid answers, latency, cold start",
    )
    add_arguments(rewriters)
    rewriters.set_defaults(func=cmd_eval_rewriters)
