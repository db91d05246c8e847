"""Verbs over catalogues and indexes: `index build`, `search`, `models`."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from ui.cli import options
from ui.cli.options import UserError

log = logging.getLogger(__name__)


def cmd_index_build(args: argparse.Namespace) -> int:
    from retrieval.encoders import load_encoder
    from retrieval.indexing.gallery import build_and_save

    ref = options.catalogue_ref(args, args.part)
    out = Path(args.out) if args.out else ref.index_dir(args.model)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file: give a folder for the index (new or its own)")
    index = build_and_save(
        ref,
        load_encoder(args.model),
        out,
        args.factory,
        not args.no_cache,
        options.positive("--batch-size", args.batch_size),
        engine=args.engine,
    )
    m = index.manifest
    left_out = ", ".join(f"{n} {kind}" for kind, n in m.left_out.items())
    print(
        f"indexed {m.count} items of {m.catalogue.display_name} with {m.model_id} ({m.factory}) in "
        f"{m.build_seconds:.1f} s: {m.encoded} encoded, {m.count - m.encoded} from the cache, "
        f"{len(m.skipped)} skipped{f' (metadata: {left_out})' if left_out else ''} -> {out}"
    )
    return 0


def _reference_vector(image: str, encoder, index):
    """A gallery item id's stored vector, or the encoding of an image file."""
    if image in index.positions:
        return index.vector(image)
    path = Path(image)
    if not path.exists():
        raise UserError(f"--image {image!r} is neither an item id of the index nor an image file")
    if path.is_dir():
        raise UserError(f"--image {image} is a folder: give one image file or an item id")
    from retrieval.catalogues import decode_image

    try:
        pixels = decode_image(path.read_bytes(), str(path))
    except ValueError as err:
        raise UserError(str(err)) from None
    return encoder.encode_images([pixels])[0]


def cmd_search(args: argparse.Namespace) -> int:
    from agent.language.intent import what_to_say
    from agent.language.phrases import tokenize
    from agent.rewriters import RuleRewriter, clean_message
    from retrieval.compose import build_composer
    from retrieval.indexing.gallery import open_gallery

    text, note = clean_message(args.text or "")  # bounded like a chat message
    if note:
        log.warning("note: --text: %s", note)
    options.positive("--k", args.k)
    if not text and not args.image:
        raise UserError("search needs --text, --image, or both")
    gallery = open_gallery(options.catalogue_ref(args), args.model, args.index, mmap=args.mmap)
    encoder, index = gallery.encoder, gallery.index
    if text and not tokenize(text):  # another script, emoji only: as the chat answers it
        said = f"I could not read that; try describing {what_to_say(index.schema)}"
        raise UserError(f"--text {text[:40]!r}: {said}")
    reference = _reference_vector(args.image, encoder, index)[None] if args.image else None
    reader = RuleRewriter(None, index.schema)
    query = build_composer(args.composer, encoder, rewriter=reader).compose(reference, [text])
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


def inspect_report(catalogue) -> dict:
    """The schema of a catalogue (attributes with their value counts, roles and nesting; the
    id, title and kind), what its metadata matched, and what was skipped."""
    schema = catalogue.schema
    report = {
        "catalogue": catalogue.name,
        "items": len(catalogue),
        "id_column": schema.id_column,
        "file_column": schema.file_column,
        "title_column": schema.title_column,
        "kind": schema.kind,
        "attributes": {
            name: {
                "label": spec.label,
                "kind": spec.kind,
                "role": spec.role,
                "parent": spec.parent,
                **({"range": list(spec.range)} if spec.range else {}),
                **(
                    {"values": spec.counts or dict.fromkeys(spec.values, None)}
                    if spec.values
                    else {}
                ),
            }
            for name, spec in schema.attributes.items()
        },
        "ignored": schema.ignored,
    }
    if hasattr(catalogue, "report"):
        report.update(catalogue.report())
    return report


def _print_inspection(report: dict) -> None:
    print(f"{report['catalogue']}: {report['items']} items")
    for key in ("metadata", "layout", "id_column", "file_column", "title_column", "kind"):
        if report.get(key) is not None:
            print(f"  {key.replace('_', ' ')}: {report[key]}")
    if report.get("images") and report["images"] != report.get("folder"):
        print(f"  images: {report['images']}")
    if "colourways" in report:
        print(
            f"  {report['products']} products in {report['colourways']} colourways "
            f"({report['variants collapsed']} variant rows sharing a colourway's photo "
            "collapsed into it)"
        )
    for name, a in report["attributes"].items():
        where = ", ".join(f"{k} {a[k]}" for k in ("role", "parent") if a.get(k))
        head = f"  {name} ({a['kind']}{', ' + where if where else ''})"
        if "range" in a:
            print(f"{head}: {a['range'][0]:g} to {a['range'][1]:g}")
            continue
        values = list(a.get("values", {}).items())
        shown = ", ".join(f"{v} {n}" if n is not None else v for v, n in values[:12])
        print(f"{head}, {len(values)} values: {shown}{' ...' if len(values) > 12 else ''}")
    if report["ignored"]:
        print(f"  ignored columns: {', '.join(report['ignored'])}")
    for kind, found in report.get("skipped", {}).items():
        print(f"  {found['count']} {kind} (first: {', '.join(found['first'])})")
    for note in report.get("notes", []):
        print(f"  note: {note}")


def cmd_catalogue_inspect(args: argparse.Namespace) -> int:
    from retrieval.catalogues import CatalogueRef

    try:
        ref = CatalogueRef.parse(args.folder, args.metadata, images=args.images)
    except ValueError as err:
        raise UserError(str(err)) from None
    report = inspect_report(ref.open())
    if args.json:
        print(json.dumps(report))
    else:
        _print_inspection(report)
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from retrieval.compose import list_models, model_config

    for name in list_models():
        print(f"{name:<12} {model_config(name).description}")
    return 0


def register(verbs) -> None:
    model, catalogue = options.model(), options.catalogue()
    index = verbs.add_parser("index", help="build search indexes").add_subparsers(
        dest="action", required=True
    )
    build = index.add_parser(
        "build", parents=[catalogue, model], help="encode a catalogue and save a FAISS index"
    )
    build.add_argument(
        "--factory", default="Flat", help="FAISS factory string (Flat, IVF256,PQ48, HNSW32)"
    )
    build.add_argument("--out", help="index folder (default under $CIRCHAT_HOME/indexes)")
    build.add_argument(
        "--part", choices=("train", "test"), help="only this part of the catalogue (split by id)"
    )
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

    search = verbs.add_parser(
        "search",
        parents=[catalogue, model, options.index(), options.composer(), options.json_output()],
        help="search the index with text and/or an image",
    )
    search.add_argument("--text", default="")
    search.add_argument("--image", help="a gallery item id or an image file (the reference)")
    search.add_argument("--k", type=int, default=10)
    search.add_argument("--nprobe", type=int, help="IVF lists scanned (IVF indexes)")
    search.add_argument("--ef-search", type=int, help="HNSW search breadth (HNSW indexes)")
    search.add_argument(
        "--rerank", type=int, help="re-score this many candidates with the stored vectors (0: off)"
    )
    search.add_argument(
        "--mmap", action="store_true", help="memory-map the index from disk instead of reading it"
    )
    search.set_defaults(func=cmd_search)

    verbs.add_parser("models", help="list the composition models").set_defaults(func=cmd_models)

    catalogues = verbs.add_parser("catalogue", help="look at a catalogue").add_subparsers(
        dest="action", required=True
    )
    inspect = catalogues.add_parser(
        "inspect", parents=[options.json_output()], help="the schema inferred from its metadata"
    )
    inspect.add_argument("folder", help="a folder of images, or fmnist-color")
    inspect.add_argument("--metadata", help="its metadata file (default: metadata.csv in it)")
    inspect.add_argument("--images", help=options.IMAGES_HELP)
    inspect.set_defaults(func=cmd_catalogue_inspect)
