"""`circhat bench`: speed and index figures, each beside its baseline."""

from __future__ import annotations

import argparse
import json

from ui.cli import options
from ui.cli.options import UserError


def cmd_bench_api(args: argparse.Namespace) -> int:
    """Turns through `circhat serve` beside Agent.step (eval/bench/api.py)."""
    import shlex

    from agent.factory import build_agent
    from eval.bench.api import ApiBenchConfig, api_markdown, bench_api, quick_api
    from retrieval.compose import DEFAULT_COMPOSER

    config = quick_api() if args.quick else ApiBenchConfig()
    config.workers = options.positive("--workers", args.workers) or 1
    config.replicas = options.positive("--replicas", args.replicas) or 0
    ref = options.catalogue_ref(args)
    composer = args.composer or DEFAULT_COMPOSER
    agent = build_agent(args.model, ref, args.index, composer)
    server = ["--model", args.model, "--composer", composer, *shlex.split(ref.command_line())]
    server += ["--index", args.index] if args.index else []
    report = bench_api(agent, server, config)
    print(json.dumps(report) if args.json else api_markdown(report))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    if args.api:
        return cmd_bench_api(args)
    from eval.bench.suite import BenchConfig, markdown_table, quick_config, run_bench

    config = quick_config(args.model) if args.quick else BenchConfig(model=args.model)
    config.catalogue = options.catalogue_ref(args)
    if config.catalogue.is_folder and not args.sizes:
        config.indexes.sizes = ()  # the million-item galleries are fmnist-color's
    if args.sizes:
        try:
            config.indexes.sizes = tuple(int(s) for s in args.sizes.split(","))
        except ValueError:
            raise UserError(
                f"--sizes {args.sizes!r}: give item counts like 100000,1000000"
            ) from None
    settings = {"nprobe": args.nprobe, "efSearch": args.ef_search, "rerank": args.rerank}
    config.indexes.settings = {k: v for k, v in settings.items() if v is not None}
    config.indexes.ivf = args.ivf or config.indexes.ivf
    config.indexes.hnsw = args.hnsw or config.indexes.hnsw
    config.turns = args.turns or config.turns
    config.gallery = args.index
    config.composer = args.composer
    if args.no_e2e:
        config.e2e = None
    report = run_bench(config, quick=args.quick, progress=not args.json)
    print(json.dumps(report) if args.json else markdown_table(report))
    return 0


def register(verbs) -> None:
    model, as_json = options.model(), options.json_output()
    bench = verbs.add_parser(
        "bench",
        parents=[options.catalogue(), model, as_json],
        help="speed and index figures beside their baselines",
    )
    bench.add_argument("--quick", action="store_true", help="small sizes (seconds, for tests)")
    bench.add_argument("--sizes", help="gallery sizes of the index figures (100000,1000000)")
    bench.add_argument(
        "--composer", help="composition model of the timed agent (default: the app's)"
    )
    bench.add_argument("--index", help="index folder of the 10k gallery the agent serves")
    bench.add_argument("--turns", type=int, help="agent turns timed (default 300)")
    bench.add_argument("--ivf", help="IVF-PQ factory (default IVF{4 sqrt n},PQ48)")
    bench.add_argument("--hnsw", help="HNSW factory (default HNSW32)")
    bench.add_argument(
        "--no-e2e", action="store_true", help="skip the end-to-end turns through the app"
    )
    bench.add_argument(
        "--api", action="store_true", help="turns through `circhat serve` beside Agent.step"
    )
    bench.add_argument("--workers", type=int, help="--api: the server's worker processes")
    bench.add_argument(
        "--replicas", type=int, help="--api: serve on Ray Serve with this many replicas"
    )
    bench.add_argument("--nprobe", type=int)
    bench.add_argument("--ef-search", type=int)
    bench.add_argument("--rerank", type=int)
    bench.set_defaults(func=cmd_bench)
