"""The published tables, in percent, one row per model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from eval.datasets import (
    FASHION_IQ_CATEGORIES,
)
from eval.published.ranking import CIRR_KS, CIRR_SUBSET_KS, FIQ_KS

if TYPE_CHECKING:
    pass


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines) + "\n"


def _as_list(reports: Mapping | Sequence[Mapping]) -> list[Mapping]:
    return [reports] if isinstance(reports, Mapping) else list(reports)


def markdown_fashion_iq(reports: Mapping | Sequence[Mapping]) -> str:
    """Fashion IQ table as the papers print it (percent), one row per report (model).

    Columns: Dress, Shirt, Toptee R@10 and R@50, Avg R@10 and R@50, and Avg (their mean).
    A category a report did not evaluate shows "-" and is not in its averages.
    """
    header = ["Model"]
    header += [f"{c.capitalize()} R@{k}" for c in FASHION_IQ_CATEGORIES for k in FIQ_KS]
    header += ["Avg R@10", "Avg R@50", "Avg"]
    rows = []
    for report in _as_list(reports):
        cats = report["categories"]
        row = [report["model"]]
        for c in FASHION_IQ_CATEGORIES:
            row += [_cell(cats[c]["recall_percent"][str(k)]) if c in cats else "-" for k in FIQ_KS]
        avg = report["average_percent"]
        rows.append(row + [_cell(avg["r10"]), _cell(avg["r50"]), _cell(avg["average"])])
    return _table(header, rows)


def markdown_cirr(reports: Mapping | Sequence[Mapping]) -> str:
    """CIRR table as the papers print it (percent): R@K, Recall_subset@K, Avg of R@5 and Rs@1."""
    header = ["Model", *(f"R@{k}" for k in CIRR_KS), *(f"Rsubset@{k}" for k in CIRR_SUBSET_KS)]
    header.append("Avg")
    rows = []
    for report in _as_list(reports):
        row = [report["model"], *(_cell(report["recall_percent"][str(k)]) for k in CIRR_KS)]
        row += [_cell(report["recall_subset_percent"][str(k)]) for k in CIRR_SUBSET_KS]
        rows.append(row + [_cell(report["average_percent"])])
    return _table(header, rows)
