""" "This style in other colours" on a photo catalogue: descriptors and expansion by mAP.

The ground truth is the shop's own colourway groups where its export has them, else styles
from product names (eval/instance_truth.py); queries are seeded items of the catalogue's test
part (retrieval/catalogues/split.py) with at least one relevant item; the whole catalogue is
the gallery. Methods: the catalogue's photo model (where given), GeM of the photo backbone on
colour input, the colour-invariant GeM (grey input), each GeM also with PCA whitening learned
on the catalogue's photos (retrieval/instance/whitening.py), then alpha-QE, DBA and diffusion
on the best descriptor. `plot_map` draws mAP by method.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path

import numpy as np

from eval.instance import encode, evaluate_descriptor, evaluate_expansion
from eval.instance_truth import MAX_STYLE, instance_truth, query_rows
from retrieval.instance.query import ExpansionSettings
from retrieval.instance.whitening import pca_whitening

log = logging.getLogger(__name__)
MIN_STYLES = 20  # fewer styles than this: too few to measure
PHOTO_SETTINGS = ExpansionSettings(
    qe_n=2, dba_k=1, graph_k=5, seeds=2, diffusion_alpha=0.9
)  # qe_n 1: the query alone
EXPANSIONS = {  # report name -> evaluate_expansion's method
    "+alpha-QE": "alpha_qe",
    "+AQE": "aqe",
    "+DBA": "dba",
    "+DBA+alpha-QE": "dba+alpha_qe",
    "+diffusion": "diffusion",
}


def photo_encoders(model_id: str | None = None) -> dict:
    """name -> encoder: the catalogue's photo model where given ('photo:DIR'), GeM of the
    photo backbone's head map on colour input, and on grey input (colour-invariant)."""
    from retrieval.encoders.photo.backbone import Backbone
    from retrieval.instance.descriptors import BackboneGemEncoder

    backbone = Backbone()
    first = {}
    if model_id:
        from retrieval.encoders import load_encoder

        first["photo model"] = load_encoder(model_id)
    return {
        **first,
        "GeM": BackboneGemEncoder(backbone, (2,), grey=False),
        "colour-invariant GeM": BackboneGemEncoder(backbone, (2,), grey=True),
    }


def run_photos_benchmark(
    folder: str,
    metadata: str | None = None,
    queries: int = 1000,
    seed: int = 0,
    model_id: str | None = None,
    settings: ExpansionSettings = PHOTO_SETTINGS,
    progress: bool = True,
    tune: int = 0,
) -> dict:
    """The instance benchmark on a folder catalogue.

    Returns:
        {"descriptors": {name: {"map", "precision_at_10"}}, "best": name, "expansion":
        {method: {"map", "precision_at_10", "added_ms", "offline_s"}}, "settings"}, and with
        `tune` > 0 "tuned": each expansion's parameters chosen on `tune` validation queries of
        the train part, scored on the test queries (eval/instance_tuning.py);
        or {"skipped": why} where the catalogue has too few styles.
    """
    from retrieval.catalogues import FolderCatalogue

    catalogue = FolderCatalogue(folder, metadata)
    truth = instance_truth(catalogue)
    if truth.styles < MIN_STYLES:
        return {"skipped": f"only {truth.styles} styles in other colours in {folder}"}
    rows = query_rows(catalogue, truth, queries, seed)
    report, vectors = {"descriptors": {}}, {}
    for name, encoder in photo_encoders(model_id).items():
        vectors[name] = encode(catalogue, encoder, progress=progress)
        report["descriptors"][name] = evaluate_descriptor(vectors[name], truth, rows)
        log.info("descriptor %s: %s", name, report["descriptors"][name])
    for name in [n for n in vectors if n != "photo model"]:  # whitening learned on the shop
        whitened = f"{name} + PCA whitening"
        vectors[whitened] = pca_whitening(vectors[name]).apply(vectors[name])
        report["descriptors"][whitened] = evaluate_descriptor(vectors[whitened], truth, rows)
    best = max(report["descriptors"], key=lambda n: report["descriptors"][n]["map"])
    report["best"] = best
    report["expansion"] = evaluate_expansion(vectors[best], truth, rows, settings)
    if tune:
        from eval.instance_tuning import tune_expansion, validation_rows

        validation = validation_rows(catalogue, truth, tune, seed)
        report["tuned"] = tune_expansion(vectors[best], truth, validation, rows, settings)
    report["settings"] = {
        "gallery": len(catalogue),
        "garments": truth.styles,
        "truth": truth.source,
        "queries": len(rows),
        "query_part": "test",
        "precision_at_10_ceiling": precision_ceiling(truth, rows),
        "seed": seed,
        "model": model_id,
        "max_style_size": MAX_STYLE,
        "expansion": asdict(settings),
    }
    return report


def precision_ceiling(truth, rows) -> float:
    """The best precision@10 possible: each query's relevant items (at most 10) over 10."""
    return round(float(np.mean([min(len(truth.relevant(int(r))), 10) / 10 for r in rows])), 4)


def methods_of(report: dict) -> dict[str, dict]:
    """name -> {"map", "precision_at_10"}: the descriptors, then the expansions of the best."""
    methods = {name: dict(row) for name, row in report["descriptors"].items()}
    for name, method in EXPANSIONS.items():
        if method not in report["expansion"]:
            continue
        row = report["expansion"][method]
        methods[f"{report['best']} {name}"] = {k: row[k] for k in ("map", "precision_at_10")}
    return methods


def plot_map(report: dict, out: str | Path) -> Path:
    """A PNG bar chart of mAP (and precision@10) by method; returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = methods_of(report)
    names = list(methods)
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(names) + 1.5))
    ys = range(len(names))
    bars = ax.barh([y - 0.2 for y in ys], [methods[n]["map"] for n in names], 0.4, label="mAP")
    ax.bar_label(bars, fmt="%.3f", padding=2, fontsize=8)
    p10 = [methods[n]["precision_at_10"] for n in names]
    bars = ax.barh([y + 0.2 for y in ys], p10, 0.4, label="precision@10")
    ax.bar_label(bars, fmt="%.3f", padding=2, fontsize=8)
    ax.set_yticks(list(ys), names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    s = report["settings"]
    truth = s.get("truth", "colourways")
    ax.set_title(
        f"same style in other colours ({truth}): {s['queries']} queries, {s['gallery']} items"
    )
    ax.legend(loc="lower right")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
