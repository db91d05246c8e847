"""Evaluation verbs: `eval encoder`, `eval single`, `eval replay`, `eval text-probe`, ..."""

from __future__ import annotations

import argparse
import json

from ui.cli import options
from ui.cli.instance_verbs import register_instance
from ui.cli.options import DEFAULT_CATALOGUE
from ui.cli.rewriter_verbs import register as register_rewriters
from ui.cli.shop_verbs import register as register_shops


def cmd_eval_encoder(args: argparse.Namespace) -> int:
    if args.catalogue != DEFAULT_CATALOGUE:
        return _eval_encoder_on_catalogue(args)
    from eval.encoder_eval import evaluate_encoder
    from retrieval.catalogues import CatalogueRef
    from retrieval.indexing.gallery import open_gallery

    gallery = open_gallery(CatalogueRef.parse(DEFAULT_CATALOGUE), args.model, args.index)
    report = evaluate_encoder(gallery.encoder, gallery.index)
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


def _eval_encoder_on_catalogue(args: argparse.Namespace) -> int:
    from eval.catalogue_encoder import evaluate_on_catalogue, markdown
    from retrieval.encoders import load_encoder

    catalogue = options.catalogue_ref(args).open()
    report = evaluate_on_catalogue(load_encoder(args.model), catalogue, progress=not args.json)
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"encoder {report['model_id']} on {report['items']} test items of {report['catalogue']}"
        )
        print(markdown(report))
    return 0


def _composer_names(args: argparse.Namespace) -> list[str]:
    from retrieval.compose import list_models

    return args.composers.split(",") if args.composers else list_models()


def cmd_eval_single(args: argparse.Namespace) -> int:
    from eval.single_turn import markdown_table, run_benchmark
    from retrieval.catalogues import FolderCatalogue
    from retrieval.encoders import load_encoder

    catalogue = None
    if args.catalogue != DEFAULT_CATALOGUE:
        catalogue = FolderCatalogue(args.catalogue, args.metadata, args.images)
    report = run_benchmark(
        load_encoder(args.model), _composer_names(args), args.queries, args.seed, catalogue
    )
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"single-turn benchmark: {report['queries']} queries, {report['gallery']} gallery items"
        )
        print(markdown_table(report))
        for name, reason in report.get("unavailable", {}).items():
            print(f"{name}: not measured ({reason})")
    return 0


def _check_replay_numbers(args: argparse.Namespace) -> None:
    for flag, value in (("--k", args.k), ("--dialogues", args.dialogues), ("--turns", args.turns)):
        options.positive(flag, value)
    if not 0.0 <= args.suggestion_use <= 1.0:
        raise options.UserError(
            f"--suggestion-use must be between 0 and 1, not {args.suggestion_use}"
        )


def cmd_eval_replay(args: argparse.Namespace) -> int:
    from agent.agent import AgentConfig
    from agent.factory import build_agent
    from eval.replay import replay_models
    from eval.report import write_reports
    from eval.single_turn import DEFAULT_PHRASEBOOK, EVAL_ROLES
    from retrieval.training.phrasebook import Phrasebook

    names = _composer_names(args)
    _check_replay_numbers(args)
    own = options.catalogue_ref(args).is_folder  # a folder: its test part only
    config = AgentConfig(k=args.k, hard_constraints=args.filters == "on")
    ref = options.catalogue_ref(args, "test" if own else None)
    agent = build_agent(args.model, ref, args.index, names[0], args.rewriter, config)
    catalogue = agent.gallery.catalogue
    if args.phrasebook or not own:
        phrasebook = Phrasebook.load(args.phrasebook or DEFAULT_PHRASEBOOK)
    else:  # a catalogue of the user's: say its values by its schema's names and synonyms
        phrasebook = Phrasebook.for_schema(catalogue.schema, EVAL_ROLES)
    models, results = replay_models(
        agent,
        names,
        args.dialogues,
        args.turns,
        phrasebook,
        args.seed,
        suggestion_use=args.suggestion_use,
    )
    summary = {"models": models}
    summary["settings"] = {
        "dialogues": args.dialogues,
        "turns": args.turns,
        "k": args.k,
        "seed": args.seed,
        "phrasebook": str(phrasebook.source),
        "rewriter": args.rewriter,
        "model": args.model,
        "catalogue": catalogue.name,
        "filters": args.filters,
        "suggestion_use": args.suggestion_use,
    }
    paths = write_reports(summary, results, args.out)
    if args.json:
        print(json.dumps(summary))
    else:
        from eval.report import markdown

        print(markdown(summary, args.k))
        print("reports: " + ", ".join(str(p) for p in paths))
    return 0


def register(verbs) -> None:
    evaluate = verbs.add_parser("eval", help="evaluate").add_subparsers(
        dest="action", required=True
    )
    _register_single_turn(evaluate)
    _register_replay(evaluate)
    _register_published(evaluate)
    register_rewriters(evaluate)
    register_instance(evaluate)
    _register_text_probe(evaluate)
    register_shops(evaluate)


def cmd_eval_text_probe(args: argparse.Namespace) -> int:
    """Precision@10 of title-judged requests beside the metadata-only base rate."""
    from agent.factory import build_agent
    from eval.text_probe import dumps, markdown, probe, read_requests

    try:
        requests = read_requests(args.requests)
    except (OSError, ValueError) as err:
        raise SystemExit(f"error: {err}") from None
    from agent.agent import AgentConfig

    config = AgentConfig(text_search=not args.vectors_only)
    ref = options.catalogue_ref(args)
    agent = build_agent(args.model, ref, args.index, config=config)
    if args.held_out_photos:
        from eval.text_probe import probe_held_out_photos

        try:
            report = probe_held_out_photos(agent.encoder, agent.index, requests)
        except ValueError as err:
            raise SystemExit(f"error: {err}") from None
    else:
        report = probe(agent, requests, progress=not args.json)
    print(dumps(report) if args.json else markdown(report))
    return 0


def _register_text_probe(evaluate) -> None:
    shared = [options.catalogue(), options.model(), options.index(), options.json_output()]
    probe = evaluate.add_parser(
        "text-probe",
        parents=shared,
        help="precision@10 of requests judged by a regular expression over the titles",
    )
    probe.add_argument(
        "--requests",
        required=True,
        help='JSON lines: {"request": "...", "title_pattern": "regex", "kind": "brand"}',
    )
    probe.add_argument(
        "--vectors-only",
        action="store_true",
        help="search without the titles' text index (the vector ranking alone)",
    )
    probe.add_argument(
        "--held-out-photos",
        action="store_true",
        help="the photo encoder alone, among the test part's photos (not trained on): "
        "what it learned of the words from other products' titles",
    )
    probe.set_defaults(func=cmd_eval_text_probe)


def _register_single_turn(evaluate) -> None:
    model, index, as_json = options.model(), options.index(), options.json_output()
    enc = evaluate.add_parser(
        "encoder",
        parents=[options.catalogue(), model, index, as_json],
        help="zero-shot and caption search (fmnist-color: also synonyms; else its test part)",
    )
    enc.set_defaults(func=cmd_eval_encoder)

    single = evaluate.add_parser(
        "single",
        parents=[options.composers(), options.catalogue(), model, as_json],
        help="single-turn composed retrieval benchmark (a folder catalogue: its test part)",
    )
    single.add_argument("--queries", type=int, default=2000)
    single.add_argument("--seed", type=int, default=1)
    single.set_defaults(func=cmd_eval_single)


def _register_replay(evaluate) -> None:
    model, index, as_json = options.model(), options.index(), options.json_output()
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
        "--filters",
        choices=("on", "off"),
        default="on",
        help="off: requested values are soft query terms only, no hard filtering",
    )
    replay.add_argument(
        "--suggestion-use",
        type=float,
        default=0.0,
        metavar="P",
        help="chance (0 to 1) that the simulated shopper clicks a suggestion or answers a "
        "question with the chip that agrees with its target (default 0: it ignores them)",
    )
    replay.add_argument(
        "--out", default="outputs/replay", help="folder for JSON, Markdown and plots"
    )
    replay.set_defaults(func=cmd_eval_replay)


def cmd_eval_published(args: argparse.Namespace) -> int:
    """FashionIQ or CIRR validation, as the papers report them (eval/published/)."""
    from agent.rewriters import RuleRewriter
    from eval.published import (
        evaluate_cirr,
        evaluate_fashion_iq,
        markdown_cirr,
        markdown_fashion_iq,
    )
    from retrieval.compose import build_composer
    from retrieval.encoders import load_encoder

    encoder = load_encoder(args.model)
    composer = build_composer(args.composer, encoder, rewriter=RuleRewriter(None))
    parts = {"encoder": encoder, "composer": composer, "use_cache": not args.no_cache}
    if args.action == "fashioniq":
        categories = [c.strip() for c in args.categories.split(",") if c.strip()]
        report = evaluate_fashion_iq(args.root, categories, **parts)
        table = markdown_fashion_iq(report)
    else:
        report = evaluate_cirr(args.root, args.split, **parts)
        table = markdown_cirr(report)
    print(json.dumps(report) if args.json else table)
    return 0


def _register_published(evaluate) -> None:
    shared = [options.model(), options.composer(), options.json_output()]
    fiq = evaluate.add_parser(
        "fashioniq", parents=shared, help="FashionIQ validation: R@10 / R@50 per category"
    )
    fiq.add_argument("--root", required=True, help="folder with captions/, image_splits/, images/")
    fiq.add_argument("--categories", default="dress,shirt,toptee")
    cirr = evaluate.add_parser(
        "cirr", parents=shared, help="CIRR validation: R@K and Recall_subset@K"
    )
    cirr.add_argument("--root", required=True, help="CIRR's folder (captions/, image_splits/)")
    cirr.add_argument("--split", default="val")
    for parser in (fiq, cirr):
        parser.add_argument("--no-cache", action="store_true", help="encode every image again")
        parser.set_defaults(func=cmd_eval_published)
