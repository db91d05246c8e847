"""Zero-shot figures of an encoder on a catalogue's items, as pure functions of vectors.

Zero-shot accuracy: each item is given the value whose prompt ("navy blue", "for men") is
nearest its image vector. Text-to-image precision@10: for each value held by at least 10
items, the share of the 10 items nearest its prompt that have it, averaged over the values.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

MIN_ITEMS_FOR_PRECISION = 10
TOP_COLOURS = 12


def zero_shot_accuracy(
    images: np.ndarray, prompts: np.ndarray, labels: list[str], values: list[str]
):
    """(accuracy, predicted values) of (N, D) image vectors against (V, D) prompt vectors."""
    predicted = np.asarray(values)[(images @ prompts.T).argmax(axis=1)]
    known = np.array([label in values for label in labels])
    hits = predicted[known] == np.asarray(labels)[known]
    return (float(hits.mean()) if len(hits) else float("nan")), predicted


def precision_at_10(
    images: np.ndarray, prompts: np.ndarray, labels: list[str], values: list[str]
) -> float:
    """Mean share of each frequent value's 10 nearest items that have the value."""
    counts = Counter(labels)
    labels = np.asarray(labels)
    shares = []
    for row, value in enumerate(values):
        if counts[value] >= MIN_ITEMS_FOR_PRECISION:
            top = np.argsort(-(images @ prompts[row]), kind="stable")[:10]
            shares.append(float(np.mean(labels[top] == value)))
    return float(np.mean(shares)) if shares else float("nan")


def attribute_figures(
    images: np.ndarray,
    prompts: dict[str, np.ndarray],
    labels: dict[str, list[str]],
    values: dict[str, list[str]],
    train_labels: dict[str, list[str]] | None = None,
) -> dict:
    """Zero-shot accuracy and precision@10 of every attribute, the majority-class rate beside
    each accuracy, and for the colour attribute the accuracy over its 12 most frequent values."""
    report = {"zero_shot_accuracy": {}, "text_to_image_precision_at_10": {}, "majority_rate": {}}
    for name, prompt_vectors in prompts.items():
        given = [(i, v) for i, v in enumerate(labels[name]) if v]
        rows, said = [i for i, _ in given], [v for _, v in given]
        if not rows:
            continue
        accuracy, _ = zero_shot_accuracy(images[rows], prompt_vectors, said, values[name])
        report["zero_shot_accuracy"][name] = rounded(accuracy)
        precision = precision_at_10(images[rows], prompt_vectors, said, values[name])
        report["text_to_image_precision_at_10"][name] = rounded(precision)
        reference = [v for v in (train_labels or labels)[name] if v]
        majority = Counter(reference).most_common(1)[0][0]
        report["majority_rate"][name] = round(float(np.mean(np.asarray(said) == majority)), 4)
    return report


# an attribute the encoder reads weakly: below this accuracy, or closing less than this share
# of the gap between always answering its most common value and answering every item right
WEAK_ACCURACY = 0.5
WEAK_GAIN = 0.25


def weak_attributes(figures: dict) -> dict[str, tuple[float | None, float]]:
    """{attribute: (zero-shot accuracy, majority rate)} of the attributes a trained encoder
    reads weakly on its test part (see WEAK_ACCURACY, WEAK_GAIN)."""
    weak = {}
    for name, majority in figures.get("majority_rate", {}).items():
        accuracy = figures["zero_shot_accuracy"].get(name)
        if (
            accuracy is None
            or accuracy < WEAK_ACCURACY
            or accuracy - majority < WEAK_GAIN * (1 - majority)
        ):
            weak[name] = (accuracy, majority)
    return weak


def rounded(x: float) -> float | None:
    """A figure for a report: None where it could not be measured (too few items)."""
    return None if x != x else round(x, 4)


def top_values_accuracy(
    images: np.ndarray,
    prompt_vectors: np.ndarray,
    labels: list[str],
    values: list[str],
    frequent: list[str],
) -> float:
    """Zero-shot accuracy among the items and prompts of the `frequent` values only."""
    keep = [values.index(v) for v in frequent if v in values]
    rows = [i for i, v in enumerate(labels) if v in frequent]
    if not rows or not keep:
        return float("nan")
    chosen = [values[k] for k in keep]
    accuracy, _ = zero_shot_accuracy(
        images[rows], prompt_vectors[keep], [labels[i] for i in rows], chosen
    )
    return accuracy
