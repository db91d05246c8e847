"""Rewriters side by side (issue 15): rules, an LLM alone, the hybrid, on three lists.

Lists (shipped in the package, eval/lists/; each skipped where the data it needs is absent):

- `heldout`: fmnist-color's blind held-out phrasings (eval/lists/heldout_phrasings.py), one
  intended constraint each, fmnist-color's schema;
- `fashion-products`: the request list of the schema issue (eval/lists/request_lists.py) on
  ../shared/data/fashion-products' schema, scored on the exact set;
- `fashion-iq`: 200 real Fashion IQ validation captions that name one plain colour or
  pattern, labelled by eval/lists/fashion_iq_labels.py, fmnist-color's schema.

Per list and rewriter: accuracy (the intended constraint among those produced, as
tests/agent/test_rewriter.py scores it; the exact set for the request list), exact (nothing
produced beyond the intended: what an LLM's guesses cost; the rules' extra constraints
count against it too), constraints the LLM added, invalid constraints reaching the
agent (a value or attribute not in the schema: must be zero), fallbacks, p50/p95 wall and CPU
time per rewrite, the cold start (loading and warming up the model), and the model calls of a
second pass over the same list (the cache: must be zero).

`python -m eval.rewriter_bench [--rewriters rules,smollm2] [--json]`, or `circhat eval rewriters`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agent.rewriters.base import clean_message
from retrieval.catalogues.schema import CatalogueSchema, fmnist_schema
from retrieval.encoders import DEFAULT_MODEL

DEFAULT_REWRITERS = ("rules", "smollm2", "hybrid:smollm2", "gemma-270m")
FASHION_PRODUCTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "fashion-products"
Triple = tuple[str, str, str]


@dataclass
class RequestList:
    name: str
    schema: CatalogueSchema
    items: list[tuple[str, set[Triple]]]  # (text, the constraints wanted)
    exact: bool  # score the exact set (else: the wanted constraint among those produced)


def load_lists(products: Path = FASHION_PRODUCTS) -> tuple[list, list]:
    """(the lists found, a line for each one skipped)."""
    from eval.lists import fashion_iq_labels, heldout_phrasings, request_lists

    items = [(t, {w}) for t, w in heldout_phrasings.HELD_OUT_BLIND]
    lists, skipped = [RequestList("heldout", fmnist_schema(), items, exact=False)], []
    if (products / "styles.csv").exists():
        from retrieval.catalogues import FolderCatalogue

        schema = FolderCatalogue(products, products / "styles.csv").schema
        items = [(t, set(w)) for t, w in request_lists.FASHION_PRODUCTS]
        lists.append(RequestList("fashion-products", schema, items, exact=True))
    else:
        skipped.append(f"fashion-products: {products}/styles.csv is absent")
    pairs = fashion_iq_labels.labelled()
    if pairs:
        lists.append(
            RequestList("fashion-iq", fmnist_schema(), [(t, {w}) for t, w in pairs], False)
        )
    else:
        skipped.append("fashion-iq: its captions (../shared/data/fashion-iq) are absent")
    return lists, skipped


def _invalid(schema: CatalogueSchema, constraints) -> int:
    return sum(
        c.attribute not in schema.categorical
        or c.value not in schema.attributes[c.attribute].values
        for c in constraints
    )


def _percentile_ms(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)) * 1000, 1) if values else 0.0


def score(rewriter, requests: RequestList) -> dict:
    """One pass of a rewriter over a list: accuracy, exact, invalid, fallbacks, latency."""
    hits = exact = invalid = added = 0
    wall, cpu, reasons, misses = [], [], {}, []
    for text, wanted in requests.items:
        start, start_cpu = time.perf_counter(), time.process_time()
        rewrite = rewriter.rewrite(clean_message(text)[0])  # as a turn cleans it
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        found = {(c.attribute, c.value, c.polarity) for c in rewrite.constraints}
        hit = found == wanted if requests.exact else wanted <= found
        hits, exact = hits + hit, exact + (found == wanted)
        invalid += _invalid(requests.schema, rewrite.constraints)
        added += sum(source.startswith("llm:") for source in rewrite.sources.values())
        if rewrite.fallback_reason:
            reason = rewrite.fallback_reason.split(":")[0]
            reasons[reason] = reasons.get(reason, 0) + 1
        if not hit:
            misses.append([text, sorted(wanted), sorted(found)])
    n = len(requests.items)
    return {
        "n": n,
        "accuracy": round(hits / n, 4),
        "exact": round(exact / n, 4),
        "invalid": invalid,
        "llm_added": added,
        "fallbacks": reasons,
        "p50_ms": _percentile_ms(wall, 50),
        "p95_ms": _percentile_ms(wall, 95),
        "cpu_p50_ms": _percentile_ms(cpu, 50),
        "cpu_p95_ms": _percentile_ms(cpu, 95),
        "misses": misses,
    }


def evaluate(
    specs: list[str], encoder, lists: list[RequestList], timeout_s: float = 10.0, limit: int = 0
) -> dict:
    """{list name: {rewriter spec: figures}}; answers cached in a fresh folder (so the model is
    really asked on the first pass) and a second pass counts the calls the cache saves."""
    from agent.rewriters import make_rewriter

    report = {}
    with tempfile.TemporaryDirectory() as cache:
        for requests in lists:
            if limit:
                requests = RequestList(
                    requests.name, requests.schema, requests.items[:limit], requests.exact
                )
            report[requests.name] = {}
            for spec in specs:
                start, start_cpu = time.perf_counter(), time.process_time()
                rewriter = make_rewriter(spec, encoder, requests.schema, timeout_s, cache)
                cold = (time.perf_counter() - start, time.process_time() - start_cpu)
                figures = score(rewriter, requests)
                calls = rewriter.calls
                score(rewriter, requests)
                figures |= {
                    "cold_s": round(cold[0], 2),
                    "cold_cpu_s": round(cold[1], 2),
                    "llm_calls": calls,
                    "second_pass_calls": rewriter.calls - calls,
                }
                report[requests.name][spec] = figures
    return report


def markdown(report: dict) -> str:
    """One table: a row per list and rewriter."""
    lines = [
        "| list | rewriter | accuracy | exact | invalid | LLM calls (2nd pass) | LLM added "
        "| fallbacks | p50 / p95 ms | CPU p50 / p95 ms | cold start s (CPU) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, rows in report.items():
        for spec, f in rows.items():
            fallbacks = ", ".join(f"{k} {v}" for k, v in f["fallbacks"].items()) or "0"
            lines.append(
                f"| {name} ({f['n']}) | {spec} | {f['accuracy']:.3f} | {f['exact']:.3f} "
                f"| {f['invalid']} | {f['llm_calls']} ({f['second_pass_calls']}) "
                f"| {f['llm_added']} | {fallbacks} "
                f"| {f['p50_ms']:g} / {f['p95_ms']:g} | {f['cpu_p50_ms']:g} / {f['cpu_p95_ms']:g} "
                f"| {f['cold_s']:g} ({f['cold_cpu_s']:g}) |"
            )
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rewriters",
        default=",".join(DEFAULT_REWRITERS),
        help="comma-separated rewriter specs (rules, smollm2, hybrid:smollm2, gemma-270m, ...)",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per LLM call")
    parser.add_argument("--limit", type=int, default=0, help="first N requests of each list")


def run(args: argparse.Namespace, encoder) -> dict:
    lists, skipped = load_lists()
    specs = [s.strip() for s in args.rewriters.split(",") if s.strip()]
    report = evaluate(specs, encoder, lists, args.timeout, args.limit)
    return {"lists": report, "skipped": skipped}


def main(argv: list[str] | None = None) -> int:
    from retrieval.encoders import load_encoder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--model", default=DEFAULT_MODEL, help="the rules' text encoder")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = run(args, load_encoder(args.model))
    print(json.dumps(result) if args.json else render(result))
    return 0


def render(result: dict) -> str:
    skipped = "".join(f"\nskipped {line}" for line in result["skipped"])
    return markdown(result["lists"]) + skipped


if __name__ == "__main__":
    raise SystemExit(main())
