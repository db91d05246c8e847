"""Rankings to the published metrics' ranks, exactly as the reference code computes them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from eval import metrics

if TYPE_CHECKING:
    pass


FIQ_KS = (10, 50)
CIRR_KS = (1, 5, 10, 50)
CIRR_SUBSET_KS = (1, 2, 3)
FIQ_SUFFIXES = (".jpg", ".png")  # images/<asin>.jpg (CLIP4Cir) or .png (older copies)
BATCH_SIZE = 256  # images read, hashed and looked up at a time; queries composed at a time
PathLike = str | os.PathLike


def check_batch_size(batch_size: int) -> None:
    """Raise a one-line ValueError unless `batch_size` is a positive integer."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}")


# ---- ranking to metrics (pure; tested against the official code) ----


def rank_gallery(scores: np.ndarray) -> np.ndarray:
    """(Q, N) query-gallery scores -> (Q, N) gallery indices by decreasing score, ties by index."""
    scores = np.asarray(scores)
    if scores.ndim != 2:
        raise ValueError(f"scores: expected a (queries, gallery) matrix, got shape {scores.shape}")
    return np.argsort(-scores, axis=1, kind="stable")


def fashion_iq_ranks(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """CLIP4Cir's Fashion IQ ranking: each target's 0-based rank in the whole gallery.

    The reference is not removed (it usually ranks first).

    Args:
        scores: (Q, N) similarity of each query to every gallery image.
        targets: (Q,) gallery index of each query's target.

    Returns:
        (Q,) int64 ranks; recall@k is the share below k.
    """
    return metrics.target_ranks(rank_gallery(scores), targets)


def cirr_ranks(
    scores: np.ndarray,
    references: np.ndarray,
    targets: np.ndarray,
    subsets: Sequence[Sequence[int]],
) -> tuple[np.ndarray, np.ndarray]:
    """CIRR's rankings: the target's rank with the reference removed, in all and in its subset.

    Args:
        scores: (Q, N) similarity of each query to every gallery image.
        references: (Q,) gallery index of each query's reference (removed from its ranking).
        targets: (Q,) gallery index of each query's target.
        subsets: Q lists of gallery indices of the img_set members (the reference may be
            among them; it is dropped, as CLIP4Cir's mask and CIRPLANT's set_member_idx do).

    Returns:
        (ranks, subset_ranks): (Q,) int64 each; -1 where the target is absent.
    """
    ranking = metrics.remove_items(rank_gallery(scores), references)  # (Q, N-1)
    members = [[int(m) for m in s if m != r] for s, r in zip(subsets, np.asarray(references))]
    return metrics.target_ranks(ranking, targets), metrics.subset_ranks(ranking, targets, members)


def clip4cir_fiq_caption(captions: Sequence[str]) -> str:
    """A triplet's two raw captions joined as CLIP4Cir's Fashion IQ validation joins them.

    `"{c0.strip('.?, ').capitalize()} and {c1.strip('.?, ')}"`; Python's str.capitalize also
    lowers the rest of the first caption. CLIP4Cir pairs exactly two captions per triplet
    (every validation triplet has two); here a missing second caption counts as "" and any
    past two are ignored.
    """
    first, second = ([*captions, "", ""])[:2]
    return f"{first.strip('.?, ').capitalize()} and {second.strip('.?, ')}"
