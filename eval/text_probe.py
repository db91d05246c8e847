"""Requests judged by the shop's own titles: precision@10 of the agent's first answer to each
request, beside the metadata-only base rate (the share of the items the request's filters
allow whose titles match), so a shop can measure the words its shoppers use.

A request list is JSON lines: {"request": "nike running shoes", "title_pattern": "\\bnike\\b",
"kind": "brand"} (kind optional: figures are also given per kind).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ValidationError

from retrieval.progress import bar as progress_bar

K = 10


class TitleRequest(BaseModel):
    request: str
    title_pattern: str
    kind: str = ""


def read_requests(path: str | Path) -> list[TitleRequest]:
    """The requests of a JSON-lines file; ValueError naming the line that is not one."""
    requests = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            request = TitleRequest.model_validate_json(line)
            re.compile(request.title_pattern)
        except (ValidationError, re.error) as err:
            first = str(err).splitlines()[0]
            raise ValueError(
                f"{path}, line {number}: not a request with a title_pattern ({first}); "
                'write {"request": "...", "title_pattern": "a regular expression"}'
            ) from None
        requests.append(request)
    if not requests:
        raise ValueError(f"{path} holds no requests: write one JSON object a line")
    return requests


def probe(agent, requests: list[TitleRequest], progress: bool = True) -> dict:
    """Per request: precision@10 of the first answer and the base rate of its filters alone;
    their means overall and per kind."""
    from agent.turn import Turn

    titles = [item.title for item in agent.index.items]
    rows = []
    for request in progress_bar(requests, desc="requests", disable=not progress):
        pattern = re.compile(request.title_pattern, re.IGNORECASE)
        state, results = agent.step(agent.new_state(), Turn(text=request.request))
        hits = [bool(pattern.search(r.title)) for r in results[:K]]
        record = state.turns[-1]
        allowed = agent.gallery.table.mask(state.constraints) if state.constraints else None
        rows.append(
            {
                "request": request.request,
                "kind": request.kind,
                "precision_at_10": sum(hits) / K,
                "base_rate": _base_rate(titles, pattern, allowed),
                "caption": record.caption,
                "text_words": list(getattr(record, "text_words", []) or []),
            }
        )
    return {"requests": rows, "summary": _summary(rows)}


def probe_held_out_photos(encoder, index, requests: list[TitleRequest]) -> dict:
    """The photo encoder alone on photos it was not trained on: per request, precision@10 of
    its words' text vector among the test part's photos (no filters, no text index), beside
    the share of those photos whose titles match. A word only titles hold (a brand, 'polo')
    scores here only if training on other products' titles taught the encoder to see it."""
    from retrieval.catalogues.split import in_test

    held_out = np.flatnonzero([in_test(item) for item in index.items])
    if not len(held_out):
        raise ValueError("the index has no photo of the test part")
    titles = [index.items[i].title for i in held_out]
    photos = np.asarray(index.vectors[held_out], dtype=np.float32)
    queries = encoder.encode_texts([r.request for r in requests])
    rows = []
    for request, query in zip(requests, queries):
        pattern = re.compile(request.title_pattern, re.IGNORECASE)
        top = np.argsort(-(photos @ query), kind="stable")[:K]
        rows.append(
            {
                "request": request.request,
                "kind": request.kind,
                "precision_at_10": sum(bool(pattern.search(titles[i])) for i in top) / K,
                "base_rate": _base_rate(titles, pattern, None),
                "caption": request.request,
            }
        )
    return {"requests": rows, "summary": _summary(rows), "held_out_photos": len(held_out)}


def _base_rate(titles: list[str], pattern: re.Pattern, allowed: np.ndarray | None) -> float:
    """The share of the allowed items whose titles match: the precision the filters alone
    give when they pick at random among what they allow."""
    chosen = range(len(titles)) if allowed is None else np.flatnonzero(allowed)
    chosen = list(chosen)
    if not chosen:
        return 0.0
    return sum(bool(pattern.search(titles[i])) for i in chosen) / len(chosen)


def _summary(rows: list[dict]) -> dict:
    def means(group: list[dict]) -> dict:
        p = float(np.mean([r["precision_at_10"] for r in group]))
        base = float(np.mean([r["base_rate"] for r in group]))
        return {"requests": len(group), "precision_at_10": p, "base_rate": base, "gain": p - base}

    kinds = sorted({r["kind"] for r in rows if r["kind"]})
    return {"all": means(rows)} | {k: means([r for r in rows if r["kind"] == k]) for k in kinds}


def markdown(report: dict) -> str:
    base = "share of held-out photos" if "held_out_photos" in report else "filters alone"
    lines = [f"| request | precision@10 | {base} | caption |", "|---|---|---|---|"]
    for r in report["requests"]:
        lines.append(
            f"| {r['request']} | {r['precision_at_10']:.2f} | {r['base_rate']:.2f} "
            f"| {r['caption']} |"
        )
    lines += ["", f"| requests | n | precision@10 | {base} | gain |", "|---|---|---|---|---|"]
    for name, s in report["summary"].items():
        lines.append(
            f"| {name} | {s['requests']} | {s['precision_at_10']:.3f} | {s['base_rate']:.3f} "
            f"| {s['gain']:+.3f} |"
        )
    return "\n".join(lines)


def dumps(report: dict) -> str:
    return json.dumps(report, indent=1)
