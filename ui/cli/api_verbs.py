"""`circhat serve`: the HTTP JSON API for a shop's own storefront (ui/api)."""

from __future__ import annotations

import argparse

from retrieval.prepare import AUTO_MODEL
from ui.cli import options


def cmd_serve(args: argparse.Namespace) -> int:
    from ui.api.app import ServeConfig
    from ui.api.limits import Limits, hash_key
    from ui.api.serving import serve

    if args.hash_key:
        print(hash_key(args.hash_key))  # a line for the --api-keys file
        return 0
    options.positive("--workers", args.workers)
    limits = Limits(
        max_message_chars=args.max_message_chars,
        max_image_bytes=args.max_image_bytes,
        max_image_pixels=args.max_image_pixels,
        max_body_bytes=args.max_image_bytes + 1_000_000,
        rate_per_minute=args.rate,
        rate_burst=args.burst,
    )
    config = ServeConfig(
        catalogue=options.catalogue_ref(args),
        model=args.model,
        index=args.index,
        composer=args.composer,
        rewriter=args.rewriter,
        store=args.store,
        session_ttl_s=args.session_ttl,
        api_keys=args.api_keys,
        cors=args.cors or [],
        limits=limits,
        demo=args.demo,
    )
    if args.ray:
        from ui.api.ray_serve import serve_on_ray

        options.positive("--replicas", args.replicas)
        serve_on_ray(config, args.replicas, args.address, args.host, args.port, args.replica_cpus)
        return 0
    if args.replicas != 1 or args.address:
        raise options.UserError("--replicas and --address serve on Ray: add --ray")
    serve(config, host=args.host, port=args.port, workers=args.workers)
    return 0


def register(verbs) -> None:
    serve = verbs.add_parser(
        "serve",
        parents=[
            options.catalogue(),
            options.model(AUTO_MODEL),
            options.index(),
            options.composer(),
            options.rewriter(),
        ],
        help="serve the HTTP JSON API (/v1, docs at /docs)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to serve other machines")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    serve.add_argument(
        "--store",
        help="sessions: sqlite:PATH (default: sessions.db in CIRCHAT_HOME) or redis://...",
    )
    serve.add_argument(
        "--session-ttl", type=float, default=24 * 3600, help="seconds a session is kept idle"
    )
    serve.add_argument("--api-keys", help="file of sha256:<hex> lines (see --hash-key)")
    serve.add_argument("--hash-key", metavar="KEY", help="print KEY's line for --api-keys, exit")
    serve.add_argument("--cors", nargs="+", metavar="ORIGIN", help="origins browsers may call from")
    serve.add_argument("--max-message-chars", type=int, default=2000)
    serve.add_argument("--max-image-bytes", type=int, default=10_000_000)
    serve.add_argument("--max-image-pixels", type=int, default=40_000_000)
    serve.add_argument(
        "--rate", type=float, default=600.0, help="requests a minute per key (0: no limit)"
    )
    serve.add_argument("--burst", type=int, default=100, help="requests at once per key")
    serve.add_argument("--demo", action="store_true", help="serve the storefront demo at /demo/")
    serve.add_argument(
        "--ray", action="store_true", help="serve as replicas on Ray Serve (see --replicas)"
    )
    serve.add_argument("--replicas", type=int, default=1, help="--ray: replicas of the app")
    serve.add_argument(
        "--address",
        help="--ray: the cluster to join (auto, or HOST:6379; default: a new local one)",
    )
    serve.add_argument(
        "--replica-cpus", type=float, default=1.0, help="--ray: CPUs Ray reserves per replica"
    )
    serve.set_defaults(func=cmd_serve)
