"""The `circhat` command line: each verb is a plain function also callable from Python."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from retrieval.compose import DEFAULT_COMPOSER
from retrieval.encoders.errors import HubUnavailableError

DEFAULT_CATALOGUE = "fmnist-color"
DEFAULT_MODEL = "fashion-mini"


class UserError(Exception):
    """A problem with the user's input: printed as one line, exit code 2."""


def cmd_index_build(args: argparse.Namespace) -> int:
    from retrieval.encoders import load_encoder
    from retrieval.gallery import build_and_save
    from retrieval.paths import default_index_dir

    out = Path(args.out) if args.out else default_index_dir(args.catalogue, args.model)
    index = build_and_save(
        args.catalogue,
        load_encoder(args.model),
        out,
        args.factory,
        not args.no_cache,
        args.batch_size,
        engine=args.engine,
    )
    m = index.manifest
    print(
        f"indexed {m.count} items of {m.catalogue} with {m.model_id} ({m.factory}) in "
        f"{m.build_seconds:.1f} s: {m.encoded} encoded, {m.count - m.encoded} from the cache, "
        f"{len(m.skipped)} skipped -> {out}"
    )
    return 0


def _reference_vector(image: str, encoder, index):
    """A gallery item id's stored vector, or the encoding of an image file."""
    if image in index.positions:
        return index.vector(image)
    path = Path(image)
    if not path.exists():
        raise UserError(f"--image {image!r} is neither an item id of the index nor an image file")
    from retrieval.catalogue import decode_image

    try:
        pixels = decode_image(path.read_bytes(), str(path))
    except ValueError as err:
        raise UserError(str(err)) from None
    return encoder.encode_images([pixels])[0]


def cmd_search(args: argparse.Namespace) -> int:
    from retrieval.compose import build_composer
    from retrieval.gallery import open_gallery

    text = (args.text or "").strip()
    if not text and not args.image:
        raise UserError("search needs --text, --image, or both")
    encoder, index = open_gallery(args.catalogue, args.model, args.index, mmap=args.mmap)
    reference = _reference_vector(args.image, encoder, index)[None] if args.image else None
    query = build_composer(args.composer, encoder).compose(reference, [text])
    exclude = [args.image] if args.image and args.image in index.positions else []
    settings = {"nprobe": args.nprobe, "ef_search": args.ef_search, "rerank": args.rerank}
    hits = index.search(query, k=args.k, exclude=exclude, **settings)[0]
    results = [
        {"id": h.item.id, "score": round(h.score, 4), "attributes": h.item.attributes} for h in hits
    ]
    if args.json:
        print(json.dumps({"results": results}))
    else:
        for rank, r in enumerate(results, 1):
            attrs = ", ".join(f"{k}={v}" for k, v in r["attributes"].items())
            print(f"{rank:>3}. {r['id']:<16} {r['score']:.3f}  {attrs}")
    return 0


def cmd_eval_encoder(args: argparse.Namespace) -> int:
    from eval.encoder_eval import evaluate_encoder
    from retrieval.gallery import open_gallery

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


def cmd_train_encoder(args: argparse.Namespace) -> int:
    from retrieval.encoders.fashion_mini import DEFAULT_WEIGHTS
    from retrieval.train_fashion_mini import TrainConfig, train

    config = TrainConfig(epochs=args.epochs, seed=args.seed, limit=args.limit)
    out = Path(args.out) if args.out else DEFAULT_WEIGHTS
    metadata = train(config, out)
    print(f"trained fashion-mini in {metadata['train_seconds']} s -> {out}")
    return 0


def cmd_eval_replay(args: argparse.Namespace) -> int:
    from agent.agent import AgentConfig
    from agent.factory import build_agent
    from eval.replay import replay_model, summarize
    from eval.report import write_reports
    from eval.single_turn import DEFAULT_PHRASEBOOK
    from retrieval.compose import list_models
    from retrieval.phrasebook import Phrasebook

    names = args.models.split(",") if args.models else list_models()
    phrasebook = Phrasebook.load(args.phrasebook or DEFAULT_PHRASEBOOK)
    agent, catalogue = build_agent(
        args.model, DEFAULT_CATALOGUE, args.index, names[0], args.rewriter, AgentConfig(k=args.k)
    )
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
    }
    paths = write_reports(summary, results, args.out)
    if args.json:
        print(json.dumps(summary))
    else:
        from eval.report import markdown

        print(markdown(summary, args.k))
        print("reports: " + ", ".join(str(p) for p in paths))
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from retrieval.compose import list_models, model_config

    for name in list_models():
        print(f"{name:<12} {model_config(name).get('description', '')}")
    return 0


def cmd_train_composers(args: argparse.Namespace) -> int:
    from retrieval.compose.train_all import train_composers
    from retrieval.compose.training import TrainSettings
    from retrieval.encoders import load_encoder

    settings = TrainSettings(epochs=args.epochs, seed=args.seed)
    results = train_composers(load_encoder(args.model), args.only, args.triplets, settings)
    for name, meta in results.items():
        if name != "total_seconds":
            print(f"{name:<10} trained in {meta['train_seconds']:>6.1f} s on {meta['train_data']}")
    print(f"all composition models trained in {results['total_seconds']:.1f} s")
    return 0


def cmd_eval_single(args: argparse.Namespace) -> int:
    from eval.single_turn import markdown_table, run_benchmark
    from retrieval.compose import list_models
    from retrieval.encoders import load_encoder

    names = args.models.split(",") if args.models else list_models()
    report = run_benchmark(load_encoder(args.model), names, args.queries, args.seed)
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"single-turn benchmark: {report['queries']} queries, {report['gallery']} gallery items"
        )
        print(markdown_table(report))
    return 0


def cmd_rewrite(args: argparse.Namespace) -> int:
    from agent.llm_rewriter import make_rewriter
    from retrieval.encoders import load_encoder

    rewriter = make_rewriter(args.rewriter, load_encoder(args.model))
    rewrite = rewriter.rewrite(args.text)
    constraints = [c.model_dump() for c in rewrite.constraints]
    if args.json:
        print(json.dumps({"caption": rewrite.caption, "constraints": constraints}))
        return 0
    print(f"caption: {rewrite.caption!r}  (rewriter: {rewrite.rewriter})")
    for c in constraints:
        print(f"  {c['polarity']:<7} {c['attribute']}={c['value']}")
    if rewrite.fallback_reason:
        print(f"  fell back to the rules: {rewrite.fallback_reason}")
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    """Serve the chat app; the index is built first if it is missing."""
    from agent.factory import build_agent
    from ui.app import build_app, launch

    agent, catalogue = build_agent(
        args.model, args.catalogue, args.index, args.composer, args.rewriter
    )
    launch(
        build_app(agent, catalogue, args.concurrency), server_name=args.host, server_port=args.port
    )
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="circhat", description="conversational image search")
    verbs = parser.add_subparsers(dest="verb", required=True)

    index = verbs.add_parser("index", help="build search indexes").add_subparsers(
        dest="action", required=True
    )
    build = index.add_parser("build", help="encode a catalogue and save a FAISS index")
    build.add_argument(
        "--catalogue",
        default=DEFAULT_CATALOGUE,
        help="fmnist-color[:train|test], fmnist-color-variants:N (N up to millions) or a folder",
    )
    build.add_argument("--model", default=DEFAULT_MODEL, help="encoder model id")
    build.add_argument(
        "--factory", default="Flat", help="FAISS factory string (Flat, IVF256,PQ48, HNSW32)"
    )
    build.add_argument("--out", help="index folder (default under $CIRCHAT_HOME/indexes)")
    build.add_argument(
        "--batch-size", type=int, help="images per batch (default: the encoder's, 64 on CPU)"
    )
    build.add_argument("--no-cache", action="store_true", help="do not reuse cached embeddings")
    build.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="embed here, or on Ray Data (RAY_ADDRESS, else a local Ray)",
    )
    build.set_defaults(func=cmd_index_build)

    search = verbs.add_parser("search", help="search the index with text and/or an image")
    search.add_argument("--text", default="")
    search.add_argument("--image", help="a gallery item id or an image file (the reference)")
    search.add_argument("--k", type=int, default=10)
    search.add_argument(
        "--composer", default=DEFAULT_COMPOSER, help="composition model (circhat models)"
    )
    search.add_argument("--catalogue", default=DEFAULT_CATALOGUE)
    search.add_argument("--model", default=DEFAULT_MODEL)
    search.add_argument("--index", help="index folder (default: the catalogue's, built if missing)")
    search.add_argument("--json", action="store_true")
    search.add_argument("--nprobe", type=int, help="IVF lists scanned (IVF indexes)")
    search.add_argument("--ef-search", type=int, help="HNSW search breadth (HNSW indexes)")
    search.add_argument(
        "--rerank", type=int, help="re-score this many candidates with the stored vectors (0: off)"
    )
    search.add_argument(
        "--mmap", action="store_true", help="memory-map the index from disk instead of reading it"
    )
    search.set_defaults(func=cmd_search)

    evaluate = verbs.add_parser("eval", help="evaluate").add_subparsers(
        dest="action", required=True
    )
    enc = evaluate.add_parser("encoder", help="zero-shot, caption search and synonym figures")
    enc.add_argument("--model", default=DEFAULT_MODEL)
    enc.add_argument("--index", help="index folder of the 10k test gallery")
    enc.add_argument("--json", action="store_true")
    enc.set_defaults(func=cmd_eval_encoder)

    single = evaluate.add_parser("single", help="single-turn composed retrieval benchmark")
    single.add_argument("--models", help="comma-separated composition models (default: all)")
    single.add_argument("--model", default=DEFAULT_MODEL, help="encoder model id")
    single.add_argument("--queries", type=int, default=2000)
    single.add_argument("--seed", type=int, default=1)
    single.add_argument("--json", action="store_true")
    single.set_defaults(func=cmd_eval_single)

    replay = evaluate.add_parser("replay", help="replay simulated shoppers' dialogues")
    replay.add_argument("--models", help="comma-separated composition models (default: all)")
    replay.add_argument("--dialogues", type=int, default=1000)
    replay.add_argument("--turns", type=int, default=5)
    replay.add_argument("--k", type=int, default=10, help="results shown per turn")
    replay.add_argument(
        "--phrasebook", help="phrasebook JSON (default: eval/phrasebooks/default.json)"
    )
    replay.add_argument("--seed", type=int, default=0)
    replay.add_argument(
        "--rewriter", default="rules", help="rules, openai, gemma-270m or gguf:PATH"
    )
    replay.add_argument("--model", default=DEFAULT_MODEL, help="encoder model id")
    replay.add_argument("--index", help="index folder of the test gallery")
    replay.add_argument(
        "--out", default="outputs/replay", help="folder for JSON, Markdown and plots"
    )
    replay.add_argument("--json", action="store_true")
    replay.set_defaults(func=cmd_eval_replay)

    models = verbs.add_parser("models", help="list the composition models")
    models.set_defaults(func=cmd_models)

    rewrite = verbs.add_parser("rewrite", help="show what the rewriter makes of a message")
    rewrite.add_argument("text")
    rewrite.add_argument(
        "--rewriter", default="rules", help="rules, openai, gemma-270m or gguf:PATH"
    )
    rewrite.add_argument("--model", default=DEFAULT_MODEL, help="encoder model id")
    rewrite.add_argument("--json", action="store_true")
    rewrite.set_defaults(func=cmd_rewrite)

    train = verbs.add_parser("train", help="train models").add_subparsers(
        dest="action", required=True
    )
    tenc = train.add_parser("encoder", help="train the fashion-mini image tower (CPU, minutes)")
    tenc.add_argument("--epochs", type=int, default=7)
    tenc.add_argument("--seed", type=int, default=0)
    tenc.add_argument("--limit", type=int, help="train on the first N garments only")
    tenc.add_argument("--out", help="weights file (default: the packaged fashion-mini weights)")
    tenc.set_defaults(func=cmd_train_encoder)

    tcomp = train.add_parser("composers", help="train every trainable composition model (CPU)")
    tcomp.add_argument("--model", default=DEFAULT_MODEL, help="encoder model id")
    tcomp.add_argument("--only", nargs="+", help="train only these models")
    tcomp.add_argument("--triplets", type=int, default=100_000)
    tcomp.add_argument("--epochs", type=int, default=4)
    tcomp.add_argument("--seed", type=int, default=0)
    tcomp.set_defaults(func=cmd_train_composers)

    app = verbs.add_parser("app", help="serve the chat app in the browser")
    app.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to serve other machines")
    app.add_argument("--port", type=int, default=7860)
    app.add_argument(
        "--composer", default=DEFAULT_COMPOSER, help="composition model (circhat models)"
    )
    app.add_argument("--model", default=DEFAULT_MODEL)
    app.add_argument("--catalogue", default=DEFAULT_CATALOGUE)
    app.add_argument("--index", help="index folder (default: the catalogue's, built if missing)")
    app.add_argument("--rewriter", default="rules", help="rules, openai or gguf:PATH")
    app.add_argument("--concurrency", type=int, default=4, help="turns served at once")
    app.set_defaults(func=cmd_app)

    bench = verbs.add_parser("bench", help="speed and index figures, each beside its baseline")
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--quick", action="store_true", help="small sizes (seconds, for tests)")
    bench.add_argument("--sizes", help="gallery sizes of the index figures (100000,1000000)")
    bench.add_argument("--model", default=DEFAULT_MODEL)
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (UserError, ValueError, FileNotFoundError, KeyError, HubUnavailableError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"circhat: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
