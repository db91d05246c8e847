"""Evaluation verbs: `eval encoder`, `eval single`, `eval replay`, and `bench`."""

from __future__ import annotations

import argparse
import json

from ui.cli import options
from ui.cli.options import DEFAULT_CATALOGUE, UserError


def cmd_eval_encoder(args: argparse.Namespace) -> int:
    from eval.encoder_eval import evaluate_encoder
    from retrieval.indexing.gallery import open_gallery

    encoder, index = open_gallery(DEFAULT_CATALOGUE, args.model, args.index)
    report = evaluate_encoder(encoder, index)
    if args.json:
        print(json.dumps(report))
        return 0
    z = report["zero_shot_accuracy"]
    print(f"encoder {report['model_id']} on {report['gallery']['items']} gallery items")
    print("| figure | value |\n|---|---|")
    e = report["zero_shot_accuracy_prompt_ensemble"]
    for name in ("category", "color", "pattern"):
        print(f"| zero-shot {name} accuracy (canonical caption) | {z[name]:.4f} |")
        print(f"| zero-shot {name} accuracy (16-paraphrase prompt ensemble) | {e[name]:.4f} |")
    print(f"| text-to-image hit@10 (480 captions) | {report['text_to_image_hit_at_10']:.4f} |")
    print(f"| held-out synonym precision@10 | {report['synonym_precision_at_10']:.4f} |")
    print(f"| train seconds | {report['train_seconds']} |")
    if report["synonym_precision_oracle"] is not None:
        print(
            "| held-out synonym precision@10 of an oracle image tower (each item at the mean "
            f"of its training captions) | {report['synonym_precision_oracle']:.4f} |"
        )
    worst = sorted(report["synonym_precision_by_synonym"].items(), key=lambda kv: kv[1])[:5]
    print("weakest synonyms: " + ", ".join(f"{s} {p:.2f}" for s, p in worst))
    return 0


def _composer_names(args: argparse.Namespace) -> list[str]:
    from retrieval.compose import list_models

    return args.composers.split(",") if args.composers else list_models()


def cmd_eval_single(args: argparse.Namespace) -> int:
    from eval.single_turn import markdown_table, run_benchmark
    from retrieval.encoders import load_encoder

    report = run_benchmark(load_encoder(args.model), _composer_names(args), args.queries, args.seed)
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"single-turn benchmark: {report['queries']} queries, {report['gallery']} gallery items"
        )
        print(markdown_table(report))
    return 0


def cmd_eval_replay(args: argparse.Namespace) -> int:
    from agent.agent import AgentConfig
    from agent.factory import build_agent
    from eval.replay import replay_model, summarize
    from eval.report import write_reports
    from eval.single_turn import DEFAULT_PHRASEBOOK, EVAL_ROLES
    from retrieval.training.phrasebook import Phrasebook

    names = _composer_names(args)
    agent, catalogue = build_agent(
        args.model,
        args.catalogue,
        args.index,
        names[0],
        args.rewriter,
        AgentConfig(k=args.k),
        metadata=args.metadata,
    )
    if args.phrasebook or args.catalogue.startswith("fmnist-color"):
        phrasebook = Phrasebook.load(args.phrasebook or DEFAULT_PHRASEBOOK)
    else:  # a catalogue of the user's: say its values by its schema's names and synonyms
        phrasebook = Phrasebook.for_schema(catalogue.schema, EVAL_ROLES)
    results, summary = {}, {"models": {}}
    for name in names:
        agent.composer(name)
        result = replay_model(
            agent, catalogue, name, args.dialogues, args.turns, phrasebook, args.seed
        )
        results[name] = result.exact_ranks
        summary["models"][name] = summarize(result, len(agent.index), args.k)
    summary["settings"] = {
        "dialogues": args.dialogues,
        "turns": args.turns,
        "k": args.k,
        "seed": args.seed,
        "phrasebook": str(phrasebook.source),
        "rewriter": args.rewriter,
        "model": args.model,
        "catalogue": catalogue.name,
    }
    paths = write_reports(summary, results, args.out)
    if args.json:
        print(json.dumps(summary))
    else:
        from eval.report import markdown

        print(markdown(summary, args.k))
        print("reports: " + ", ".join(str(p) for p in paths))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from eval.bench import BenchConfig, markdown_table, quick_config, run_bench

    config = quick_config(args.model) if args.quick else BenchConfig(model=args.model)
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
    report = run_bench(config, quick=args.quick, progress=not args.json)
    print(json.dumps(report) if args.json else markdown_table(report))
    return 0


def register(verbs) -> None:
    model, index, as_json = options.model(), options.index(), options.json_output()
    evaluate = verbs.add_parser("eval", help="evaluate").add_subparsers(
        dest="action", required=True
    )
    enc = evaluate.add_parser(
        "encoder", parents=[model, index, as_json], help="zero-shot, caption search, synonyms"
    )
    enc.set_defaults(func=cmd_eval_encoder)

    single = evaluate.add_parser(
        "single",
        parents=[options.composers(), model, as_json],
        help="single-turn composed retrieval benchmark",
    )
    single.add_argument("--queries", type=int, default=2000)
    single.add_argument("--seed", type=int, default=1)
    single.set_defaults(func=cmd_eval_single)

    replay = evaluate.add_parser(
        "replay",
        parents=[
            options.composers(),
            options.catalogue(),
            model,
            index,
            options.rewriter(),
            as_json,
        ],
        help="replay simulated shoppers' dialogues",
    )
    replay.add_argument("--dialogues", type=int, default=1000)
    replay.add_argument("--turns", type=int, default=5)
    replay.add_argument("--k", type=int, default=10, help="results shown per turn")
    replay.add_argument(
        "--phrasebook",
        help="phrasebook JSON (default: eval/phrasebooks/default.json for fmnist-color, else "
        "one generated from the catalogue's schema)",
    )
    replay.add_argument("--seed", type=int, default=0)
    replay.add_argument(
        "--out", default="outputs/replay", help="folder for JSON, Markdown and plots"
    )
    replay.set_defaults(func=cmd_eval_replay)

    bench = verbs.add_parser(
        "bench", parents=[model, as_json], help="speed and index figures beside their baselines"
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
    bench.add_argument("--nprobe", type=int)
    bench.add_argument("--ef-search", type=int)
    bench.add_argument("--rerank", type=int)
    bench.set_defaults(func=cmd_bench)
