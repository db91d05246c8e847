"""Verbs that talk with a shopper: `rewrite` (one message) and `app` (the browser chat)."""

from __future__ import annotations

import argparse
import json

from retrieval.prepare import AUTO_MODEL
from ui import CONCURRENCY
from ui.cli import options


def cmd_rewrite(args: argparse.Namespace) -> int:
    from agent.rewriters import clean_message, make_rewriter
    from retrieval.encoders import load_encoder
    from retrieval.index.text_index import TextIndex

    catalogue = options.catalogue_ref(args).open()
    texts = TextIndex.from_items(catalogue.items)  # the shop's own words are searched as words
    known = texts.known if texts else None
    rewriter = make_rewriter(
        args.rewriter, load_encoder(args.model), catalogue.schema, shop_words=known
    )
    text, shortened = clean_message(args.text)  # bounded like a chat message
    rewrite = rewriter.rewrite(text)
    if shortened:
        rewrite = rewrite.model_copy(update={"note": shortened})
    constraints = [c.model_dump(exclude={"clicked"}) for c in rewrite.constraints]
    if args.json:
        out = {"caption": rewrite.caption, "constraints": constraints}
        out |= {"new_search": rewrite.new_search, "fallback_reason": rewrite.fallback_reason}
        print(json.dumps(out | ({"note": rewrite.note} if rewrite.note else {})))
        return 0
    print(f"caption: {rewrite.caption!r}  (rewriter: {rewrite.rewriter})")
    for c in constraints:
        print(f"  {c['polarity']:<7} {c['attribute']}={c['value']}")
    if rewrite.fallback_reason:
        print(f"  fell back to the rules: {rewrite.fallback_reason}")
    if rewrite.note:
        print(f"  note: {rewrite.note}")  # e.g. a long message shortened
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    """Serve the chat app; the index is built first if it is missing."""
    from agent.factory import build_agent
    from ui.app import build_app, launch

    ref = options.catalogue_ref(args)
    model = prepared_model(ref, args.model, args.composer, args.index)
    agent = build_agent(model, ref, args.index, args.composer, args.rewriter)
    launch(
        build_app(agent, args.concurrency),
        server_name=args.host,
        server_port=args.port,
    )
    return 0


def prepared_model(ref, model: str, composer: str, index: str | None) -> str:
    """The model id to serve `ref` with; with model 'auto', what it needs is found or made
    first (retrieval.prepare: photo encoder, composition model, index, instance index), each
    stage and its seconds said as it goes."""
    from retrieval.prepare import prepare

    if model != AUTO_MODEL:
        return model
    return prepare(ref, model, composer, index).model_id


def cmd_chat(args: argparse.Namespace) -> int:
    """The conversation in a terminal; with --json one JSON object per line in and out."""
    import sys

    from agent.factory import build_agent
    from ui.chat import ChatSession, run_json, run_terminal

    ref = options.catalogue_ref(args)
    agent = build_agent(args.model, ref, args.index, args.composer, args.rewriter)
    session = ChatSession(agent)
    return (
        run_json(session, sys.stdin, sys.stdout) if args.json else run_terminal(session, sys.stdout)
    )


def register(verbs) -> None:
    model, rewriter = options.model(), options.rewriter()
    rewrite = verbs.add_parser(
        "rewrite",
        parents=[options.catalogue(), model, rewriter, options.json_output()],
        help="show what the rewriter makes of a message",
    )
    rewrite.add_argument("text")
    rewrite.set_defaults(func=cmd_rewrite)

    chat = verbs.add_parser(
        "chat",
        parents=[options.catalogue(), model, options.index(), options.composer(), rewriter],
        help="the conversation in a terminal (--json: one JSON object per line in and out)",
    )
    chat.add_argument("--json", action="store_true", help="read and write JSON lines")
    chat.set_defaults(func=cmd_chat)

    app = verbs.add_parser(
        "app",
        parents=[
            options.catalogue(),
            options.model(AUTO_MODEL),
            options.index(),
            options.composer(),
            rewriter,
        ],
        help="serve the chat app in the browser",
    )
    app.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to serve other machines")
    app.add_argument("--port", type=int, default=7860)
    app.add_argument("--concurrency", type=int, default=CONCURRENCY, help="turns served at once")
    app.set_defaults(func=cmd_app)
