"""CIRR validation: R@K with the reference removed, and Recall_subset@K."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from eval import metrics
from eval.datasets import (
    cirr_image_paths,
    load_cirr,
)
from eval.published.encoding import (
    Gallery,
    Queries,
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
    CIRR_KS,
    CIRR_SUBSET_KS,
    PathLike,
    check_batch_size,
    cirr_ranks,
)
from retrieval.indexing.embedding_cache import EmbeddingCache

if TYPE_CHECKING:
    from retrieval.compose.base import Composer
    from retrieval.encoders import Encoder


def _locate_cirr(root: Path, relpaths: Mapping[str, str], names: Sequence[str]):
    """(image folder, {name: path or None}): the first of root/img_raw (CIRR's layout), root,
    and root's parent (CLIP4Cir's cirr_dataset/) that holds any of the images."""
    for base in (root / "img_raw", root, root.parent):
        located = {n: base / relpaths[n] if n in relpaths else None for n in names}
        located = {n: p if p is not None and p.is_file() else None for n, p in located.items()}
        if any(p is not None for p in located.values()):
            return base, located
    return root / "img_raw", dict.fromkeys(names)


def evaluate_cirr(
    root: PathLike,
    split: str = "val",
    *,
    encoder: Encoder,
    composer: Composer,
    batch_size: int = BATCH_SIZE,
    cache: EmbeddingCache | None = None,
    use_cache: bool = True,
) -> dict:
    """CIRR R@1/5/10/50 (reference removed) and Recall_subset@1/2/3, as CIRR's evaluation does.

    Args:
        root: CIRR's annotation folder (captions/cap.rc2.{split}.json,
            image_splits/split.rc2.{split}.json) with the images under root/img_raw/ at the
            split file's relative paths (root/ or root/../ also work).
        split: "val" (test1's targets are private: submit to the CIRR server instead).
        encoder, composer, batch_size, cache, use_cache: as for evaluate_fashion_iq.

    Returns:
        A JSON-able report: counts, "recall" and "recall_subset" (fractions, and *_percent),
        and "average" = (R@5 + Recall_subset@1) / 2 (with "average_percent").

    Raises:
        ValueError: when the split has no targets, no image at all is found, or no query has
            both of its images.
    """
    root = Path(root)
    check_batch_size(batch_size)
    triplets, relpaths, base, located, missing = _cirr_files(root, split)
    with open_cache(cache, use_cache, encoder) as store:
        gallery = encode_gallery(list(relpaths), located, encoder, store, batch_size)
        texts = [t.captions[0] if t.captions else "" for t in triplets]
        queries = make_queries(triplets, texts, gallery)
        if not len(queries.targets):
            raise ValueError(f"CIRR {split}: no query has both its images under {base}; add them")
        ranks, subset = _cirr_scored_ranks(composer, gallery, queries, batch_size)
    recall = metrics.recall_at_k(ranks, CIRR_KS)
    recall_subset = metrics.recall_at_k(subset, CIRR_SUBSET_KS)
    average = (recall[5] + recall_subset[1]) / 2
    return {
        "dataset": "cirr",
        "split": split,
        "root": str(root),
        "images_dir": str(base),
        **model_fields(encoder, composer),
        **counts(gallery, queries),
        **recall_fields("recall", recall),
        **recall_fields("recall_subset", recall_subset),
        "average": float(average),
        "average_percent": 100.0 * float(average),
        "images": len(located),
        "images_missing": missing,
    }


def _cirr_files(root: Path, split: str):
    """(triplets, relative paths, images folder, located images, missing count) of a split."""
    triplets = load_cirr(root, split)
    if any(t.target is None for t in triplets):
        raise ValueError(
            f"CIRR {split}: the captions have no target_hard (test1's are private); "
            "evaluate split 'val' here and submit test1 rankings to the CIRR server"
        )
    relpaths = cirr_image_paths(root, split)
    wanted = [*relpaths, *triplet_images(triplets), *(m for t in triplets for m in t.subset)]
    base, located = _locate_cirr(root, relpaths, list(dict.fromkeys(wanted)))
    missing = sum(path is None for path in located.values())
    if missing == len(located):
        raise ValueError(
            f"CIRR {split}: all {missing} images are missing; expected them under {base} "
            f"at the relative paths of image_splits/split.rc2.{split}.json"
        )
    return triplets, relpaths, base, located, missing


def _cirr_scored_ranks(composer, gallery: Gallery, queries: Queries, batch_size: int):
    """(Q,) ranks and (Q,) subset ranks of every query, a batch at a time."""
    ranks, subset = [], []
    for rows, scores in scores_in_batches(composer, gallery, queries, batch_size):
        r, s = cirr_ranks(
            scores, queries.references[rows], queries.targets[rows], queries.subsets[rows]
        )
        ranks.append(r)
        subset.append(s)
    return np.concatenate(ranks), np.concatenate(subset)


# ---- paper-style tables ----
