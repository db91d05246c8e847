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
    return _print(args, report)


def _products(args: argparse.Namespace) -> int:
    from eval.instance_photos import run_photos_benchmark

    if not Path(args.catalogue).is_dir():
        raise options.UserError(
            f"--catalogue {args.catalogue}: no such folder: give a folder of photos or "
            "fmnist-color-variants"
        )
    model = args.model if args.model.startswith("photo:") else None
    if model and not Path(model.removeprefix("photo:")).is_dir():
        raise options.UserError(
            f"--model {args.model}: no such folder: give photo:DIR of a model trained by "
            "`circhat train encoder`"
        )
    options.positive("--tune", args.tune, minimum=0)
    report = run_photos_benchmark(
        args.catalogue,
        args.metadata,
        args.queries,
        args.seed,
        model,
        progress=not args.json,
        tune=args.tune,
    )
    return _print(args, report)


def _print(args: argparse.Namespace, report: dict) -> int:
    """Print the report (markdown or JSON); with --out, write instance.md and the plot too."""
    text = json.dumps(report) if args.json else markdown(report)
    print(text)
    if args.out and "skipped" not in report:
        from eval.instance_photos import plot_map

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "instance.md").write_text(markdown(report) + "\n")
        (out / "instance.json").write_text(json.dumps(report, indent=1) + "\n")
        plot = plot_map(report, out / "instance-map.png")
        if not args.json:
            print(f"\nwrote {out / 'instance.md'} and {plot}")
    return 0


def markdown(report: dict) -> str:
    """The report's two tables: descriptors, then expansion methods on the best one."""
    if "skipped" in report:
        return f"instance benchmark skipped: {report['skipped']}"
    from eval.instance_photos import methods_of

    s = report["settings"]
    truth = (
        f", truth: {s['truth']}, queries from the {s['query_part']} part" if "truth" in s else ""
    )
    lines = [
        f"instance benchmark: {s['gallery']} gallery items ({s['garments']} groups{truth}), "
        f"{s['queries']} queries"
        + (
            f" (precision@10 at best {s['precision_at_10_ceiling']:.4f})"
            if "precision_at_10_ceiling" in s
            else ""
        ),
        "",
        "| method | mAP | precision@10 |",
        "|---|---|---|",
        *(
            f"| {name} | {row['map']:.4f} | {row['precision_at_10']:.4f} |"
            for name, row in methods_of(report).items()
        ),
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
    return "\n".join(lines + _tuned(report))


def _tuned(report: dict) -> list[str]:
    """The table of expansions with parameters chosen on validation queries, where run."""
    if "tuned" not in report:
        return []
    lines = [
        "",
        f"| tuned on validation, {report['best']} | chosen | validation mAP | test mAP | "
        "test precision@10 |",
        "|---|---|---|---|---|",
    ]
    for method, row in report["tuned"].items():
        chosen = ", ".join(f"{k}={v}" for k, v in row["chosen"].items()) or "-"
        lines.append(
            f"| {method} | {chosen} | {row['validation']['map']:.4f} | {row['test']['map']:.4f} "
            f"| {row['test']['precision_at_10']:.4f} |"
        )
    return lines


def register_instance(evaluate) -> None:
    """Add `instance` under `circhat eval` (`evaluate`: eval's subparsers)."""
    parser = evaluate.add_parser(
        "instance",
        parents=[options.catalogue(), options.model(), options.json_output()],
        help="same style in other colours: descriptors, query expansion and diffusion by mAP "
        "(fmnist-color-variants; a folder catalogue: the shop's colourway groups where it has "
        "them, else styles by product name; --model photo:DIR: its photo model too)",
    )
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--tune",
        type=int,
        default=0,
        help="a folder catalogue: choose each expansion's parameters on this many validation "
        "queries of its train part, then score them on the test queries (0: off)",
    )
    parser.add_argument(
        "--out", help="a folder to write instance.md, instance.json and instance-map.png into"
    )
    parser.add_argument(
        "--split",
        choices=("test", "holdout"),
        default="test",
        help="test: the 10,000 test garments x 5 colourways; holdout: 2,000 train garments "
        "the instance head never saw (for choosing parameters)",
    )
    parser.set_defaults(func=cmd_eval_instance)


__all__ = ["cmd_eval_instance", "markdown", "register_instance"]
