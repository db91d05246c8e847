"""`circhat eval make-shop` (a shop simulated from a catalogue) and `circhat eval recipes`
(photo-encoder training recipes compared on several shops)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ui.cli import options


def cmd_make_shop(args: argparse.Namespace) -> int:
    from eval.shops import ShopPlan, make_shop

    plan = ShopPlan(args.products, args.kinds, args.reword_share, args.seed)
    catalogue = options.catalogue_ref(args).open()
    path = make_shop(catalogue, Path(args.out), plan)
    print(f"wrote {path} ({args.products} products at most, kinds: {args.kinds})")
    print(f"train its encoder: circhat train encoder --catalogue {args.out}")
    return 0


def cmd_recipes(args: argparse.Namespace) -> int:
    from eval.recipes import RECIPES_FILE, compare, markdown, read_recipes
    from retrieval.catalogues import CatalogueRef

    try:
        recipes = read_recipes(Path(args.recipes or RECIPES_FILE))
    except (OSError, ValueError) as err:
        raise options.UserError(str(err)) from None
    unknown = set(args.only or ()) - set(recipes)
    if unknown:
        raise options.UserError(
            f"no recipe {', '.join(sorted(unknown))}: see {args.recipes or RECIPES_FILE}"
        )
    recipes = {k: v for k, v in recipes.items() if not args.only or k in args.only}
    shops = {Path(s).name: CatalogueRef.parse(s).open() for s in args.shop}
    rows = compare(shops, recipes, Path(args.out), progress=not args.json)
    print(json.dumps(rows) if args.json else markdown(rows))
    return 0


def register(evaluate) -> None:
    shop = evaluate.add_parser(
        "make-shop",
        parents=[options.catalogue()],
        help="write a shop simulated from a catalogue: a subset, its own kinds, renamed "
        "columns, reworded values",
    )
    shop.add_argument("--out", required=True, help="the new shop's folder")
    shop.add_argument("--products", type=int, default=2000)
    shop.add_argument("--kinds", choices=["all", "first", "second"], default="second")
    shop.add_argument("--reword-share", type=float, default=1.0)
    shop.add_argument("--seed", type=int, default=1)
    shop.set_defaults(func=cmd_make_shop)

    recipes = evaluate.add_parser(
        "recipes",
        parents=[options.json_output()],
        help="train the photo encoder by each recipe on each shop; zero-shot figures by role",
    )
    recipes.add_argument("--shop", action="append", required=True, help="a shop folder")
    recipes.add_argument("--recipes", help="JSON {name: settings} (default: the shipped list)")
    recipes.add_argument("--only", nargs="+", help="only these recipes")
    recipes.add_argument("--out", required=True, help="folder for the trained models")
    recipes.set_defaults(func=cmd_recipes)
