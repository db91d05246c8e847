"""The published single-turn protocols: Fashion IQ and CIRR validation, as the papers measure them.

Fashion IQ follows ABaldrati/CLIP4Cir src/validate.py (`compute_fiq_val_metrics`,
`generate_fiq_val_predictions`): per category the gallery is the category's image split, a
query is the reference image's gallery vector composed with its two captions joined as
"<first stripped of '.?, ', capitalised> and <second stripped of '.?, '>", the reference stays
in the ranking, and R@10 / R@50 are reported in percent with their means over the categories
and the mean of those two means.

CIRR follows CLIP4Cir's `compute_cirr_val_metrics`, which agrees with CIRR's own code
(Cuberick-Orion/CIRPLANT model/OSCAR/OSCAR_CIRPLANT.py `eval_test_scoring_step_CIRR`) for
the hard target: the gallery is every image of the split, the reference is removed from each
ranking, R@1/5/10/50 count `target_hard`, and Recall_subset@1/2/3 rank only the query's
img_set members (the reference excluded). Avg = (R@5 + Recall_subset@1) / 2.

Equal scores are ordered by gallery position (a stable sort); the originals use torch.argsort,
whose order among equal scores is unspecified. Gallery vectors are cached by encoder
fingerprint and file content hash (the same keys as folder index builds), so a second run
encodes nothing.
"""

from __future__ import annotations

from eval.published.cirr import evaluate_cirr
from eval.published.fashion_iq import evaluate_fashion_iq
from eval.published.ranking import (
    CIRR_KS,
    CIRR_SUBSET_KS,
    FIQ_KS,
    cirr_ranks,
    clip4cir_fiq_caption,
    fashion_iq_ranks,
    rank_gallery,
)
from eval.published.tables import markdown_cirr, markdown_fashion_iq

__all__ = [
    "CIRR_KS",
    "CIRR_SUBSET_KS",
    "FIQ_KS",
    "cirr_ranks",
    "clip4cir_fiq_caption",
    "evaluate_cirr",
    "evaluate_fashion_iq",
    "fashion_iq_ranks",
    "markdown_cirr",
    "markdown_fashion_iq",
    "rank_gallery",
]
