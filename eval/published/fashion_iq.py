"""Fashion IQ validation, as CLIP4Cir computes it: R@10 and R@50 per category."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from eval import metrics
from eval.datasets import (
    FASHION_IQ_CATEGORIES,
    Triplet,
    fashion_iq_gallery,
    load_fashion_iq,
)
from eval.published.encoding import (
    Run,
    counts,
    encode_gallery,
    make_queries,
    model_fields,
    open_cache,
    recall_fields,
    scores_in_batches,
    triplet_images,
)
from eval.published.ranking import (
    BATCH_SIZE,
    FIQ_KS,
    FIQ_SUFFIXES,
    PathLike,
    check_batch_size,
    clip4cir_fiq_caption,
    fashion_iq_ranks,
)
from retrieval.indexing.embedding_cache import EmbeddingCache

if TYPE_CHECKING:
    from retrieval.compose.base import Composer
    from retrieval.encoders import Encoder


def _fiq_texts(root: Path, category: str, split: str) -> list[str]:
    """Each triplet's query text from the raw captions, in file order.

    Read raw because the loader drops empty captions, losing which of the pair was empty
    (three validation triplets are ['', caption], which CLIP4Cir joins as " and caption").
    """
    path = root / "captions" / f"cap.{category}.{split}.json"
    entries = json.loads(path.read_text(encoding="utf-8"))  # checked by load_fashion_iq
    return [clip4cir_fiq_caption(entry["captions"]) for entry in entries]


# ---- encoding a gallery through the embedding cache ----


def _locate_fiq(images_dir: Path, names: Sequence[str]) -> dict[str, Path | None]:
    """Each name's images_dir/<name>.jpg or .png, None where neither exists."""
    files = set()
    if images_dir.is_dir():
        files = {entry.name for entry in os.scandir(images_dir) if entry.is_file()}
    return {
        name: next((images_dir / f"{name}{s}" for s in FIQ_SUFFIXES if f"{name}{s}" in files), None)
        for name in names
    }


@dataclass(frozen=True)
class _FiqFiles:
    """One category's split image names, triplets and CLIP4Cir query texts."""

    names: list[str]
    triplets: list[Triplet]
    texts: list[str]


def _read_fiq(root: Path, category: str, split: str) -> _FiqFiles:
    """Read one category's files, refusing a split without targets."""
    triplets = load_fashion_iq(root, split, (category,))
    if any(t.target is None for t in triplets):
        raise ValueError(
            f"Fashion IQ {category} {split}: the captions have no targets; evaluate split 'val'"
        )
    names = fashion_iq_gallery(root, category, split)
    return _FiqFiles(names, triplets, _fiq_texts(root, category, split))


def _fiq_category(category: str, files: _FiqFiles, located, run: Run) -> dict:
    """R@10 and R@50 (CLIP4Cir's protocol) of one category, with its counts."""
    gallery = encode_gallery(files.names, located, run.encoder, run.cache, run.batch_size)
    queries = make_queries(files.triplets, files.texts, gallery)
    if not len(queries.targets):
        raise ValueError(
            f"Fashion IQ {category}: none of its {len(files.triplets)} queries has both images "
            f"in {run.images_dir}; add them or leave {category} out of the categories"
        )
    scored = scores_in_batches(run.composer, gallery, queries, run.batch_size)
    ranks = np.concatenate([fashion_iq_ranks(s, queries.targets[rows]) for rows, s in scored])
    recalls = metrics.recall_at_k(ranks, FIQ_KS)
    return {**counts(gallery, queries), **recall_fields("recall", recalls), "_recalls": recalls}


def _located_images(data: dict, images_dir: Path, split: str):
    """The image files of every category's gallery and queries, and how many are missing."""
    wanted = [n for f in data.values() for n in [*f.names, *triplet_images(f.triplets)]]
    located = _locate_fiq(images_dir, list(dict.fromkeys(wanted)))
    missing = sum(path is None for path in located.values())
    if missing == len(located):
        raise ValueError(
            f"Fashion IQ {split} ({', '.join(data)}): all {missing} images are missing; "
            f"expected them in {images_dir} as <asin>.jpg or <asin>.png"
        )
    return located, missing


def evaluate_fashion_iq(
    root: PathLike,
    categories: Sequence[str] = FASHION_IQ_CATEGORIES,
    *,
    encoder: Encoder,
    composer: Composer,
    batch_size: int = BATCH_SIZE,
    split: str = "val",
    cache: EmbeddingCache | None = None,
    use_cache: bool = True,
) -> dict:
    """Fashion IQ R@10 / R@50 per category and their averages, as CLIP4Cir measures them.

    Args:
        root: folder with captions/cap.{cat}.{split}.json, image_splits/split.{cat}.{split}.json
            and images/<asin>.jpg or .png.
        categories: categories to evaluate, in table order.
        encoder: a retrieval.encoders Encoder (gallery images, and texts for the composer).
        composer: a retrieval.compose Composer built for `encoder`.
        batch_size: images read and queries composed at a time.
        split: the split whose captions and image list are read.
        cache: embedding cache to use; by default the project's, opened and closed here.
        use_cache: False to encode every image afresh and store nothing.

    Returns:
        A JSON-able report: per category counts and recalls ("recall" fractions,
        "recall_percent"), "average" / "average_percent" ({"r10", "r50", "average"}), and
        how many of the images were missing.

    Raises:
        ValueError: when no image at all is in root/images, or a category has no usable query.
    """
    root, categories = Path(root), [categories] if isinstance(categories, str) else list(categories)
    if not categories:
        raise ValueError(f"categories: expected at least one of {', '.join(FASHION_IQ_CATEGORIES)}")
    check_batch_size(batch_size)
    data = {c: _read_fiq(root, c, split) for c in categories}
    images_dir = root / "images"
    located, missing = _located_images(data, images_dir, split)
    with open_cache(cache, use_cache, encoder) as store:
        run = Run(encoder, composer, store, batch_size, images_dir)
        results = {c: _fiq_category(c, data[c], located, run) for c in categories}
    average = metrics.fashion_iq_average({c: r.pop("_recalls") for c, r in results.items()})
    return {
        "dataset": "fashion-iq",
        "split": split,
        "root": str(root),
        "images_dir": str(images_dir),
        **model_fields(encoder, composer),
        "categories": results,
        "average": average,
        "average_percent": {k: 100.0 * v for k, v in average.items()},
        "images": len(located),
        "images_missing": missing,
    }
