"""`circhat eval instance`: "this style in other colours" by mAP (descriptors, QE, diffusion)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ui.cli import options


def cmd_eval_instance(args: argparse.Namespace) -> int:
    from eval.instance import run_instance_benchmark
    from retrieval.instance.query import ExpansionSettings

    options.positive("--queries", args.queries)
    if options.catalogue_ref(args).is_folder:
        return _products(args)
    report = run_instance_benchmark(
        args.split, args.queries, args.seed, ExpansionSettings(), args.model, progress=not args.json
    )
    print(json.dumps(report) if args.json else markdown(report))
    return 0


def _products(args: argparse.Namespace) -> int:
    from eval.instance import run_products_benchmark

    if not Path(args.catalogue).is_dir():
        raise options.UserError(
            f"--catalogue {args.catalogue}: no such folder: give a folder of photos or "
            "fmnist-color-variants"
        )
    report = run_products_benchmark(args.catalogue, args.metadata, args.queries, args.seed)
    print(json.dumps(report) if args.json else markdown(report))
    return 0


def markdown(report: dict) -> str:
    """The report's two tables: descriptors, then expansion methods on the best one."""
    if "skipped" in report:
        return f"instance benchmark skipped: {report['skipped']}"
    s = report["settings"]
    lines = [
        f"instance benchmark: {s['gallery']} gallery items ({s['garments']} groups), "
        f"{s['queries']} queries",
        "",
        "| descriptor | mAP | precision@10 |",
        "|---|---|---|",
    ]
    for name, row in report["descriptors"].items():
        best = " (best)" if name == report["best"] else ""
        lines.append(f"| {name}{best} | {row['map']:.4f} | {row['precision_at_10']:.4f} |")
    lines += [
        "",
        f"| expansion on {report['best']} | mAP | precision@10 | added ms/query | offline s |",
    ]
    lines.append("|---|---|---|---|---|")
    for name, row in report["expansion"].items():
        lines.append(
            f"| {name} | {row['map']:.4f} | {row['precision_at_10']:.4f} | "
            f"{row['added_ms']:.2f} | {row['offline_s']:.1f} |"
        )
    return "\n".join(lines)


def register_instance(evaluate) -> None:
    """Add `instance` under `circhat eval` (`evaluate`: eval's subparsers)."""
    parser = evaluate.add_parser(
        "instance",
        parents=[options.catalogue(), options.model(), options.json_output()],
        help="same style in other colours: descriptors, query expansion and diffusion by mAP "
        "(fmnist-color-variants; a folder catalogue: styles by product name)",
    )
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--split",
        choices=("test", "holdout"),
        default="test",
        help="test: the 10,000 test garments x 5 colourways; holdout: 2,000 train garments "
        "the instance head never saw (for choosing parameters)",
    )
    parser.set_defaults(func=cmd_eval_instance)


__all__ = ["cmd_eval_instance", "markdown", "register_instance"]
