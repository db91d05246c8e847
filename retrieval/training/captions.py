"""Paraphrased captions of (possibly partial) attribute sets, for training fashion-mini."""

from __future__ import annotations

import itertools

import numpy as np

from retrieval.catalogues.fmnist_vocab import (
    ATTRIBUTES,
    GENERIC_NOUNS,
    PATTERN_WITH,
    TRAIN_SYNONYMS,
)

# None means "this attribute is not mentioned".
AttributeKey = tuple[int | None, int | None, int | None]  # (category, color, pattern) indices


def all_keys() -> list[AttributeKey]:
    """Every attribute subset with at least one attribute named (10+1)*(12+1)*(4+1)-1 keys."""
    ranges = [[None, *range(len(values))] for values in ATTRIBUTES.values()]
    return [key for key in itertools.product(*ranges) if any(k is not None for k in key)]


def paraphrase(key: AttributeKey, rng: np.random.Generator) -> str:
    """One random phrasing of the attributes in `key`, using training synonyms only."""
    category, color, pattern = (
        None if idx is None else values[idx] for idx, values in zip(key, ATTRIBUTES.values())
    )
    noun = (
        rng.choice(TRAIN_SYNONYMS["category"][category]) if category else rng.choice(GENERIC_NOUNS)
    )
    color_word = rng.choice(TRAIN_SYNONYMS["color"][color]) if color else ""
    with_forms = PATTERN_WITH[pattern] if pattern else []
    pattern_after = bool(with_forms) and rng.random() < 0.35
    if pattern and pattern_after:
        pattern_word = ""
        suffix = " " + rng.choice(with_forms)
    else:
        pattern_word = rng.choice(TRAIN_SYNONYMS["pattern"][pattern]) if pattern else ""
        suffix = ""
    style = rng.integers(4)
    if style == 0 and color_word:
        text = f"a {pattern_word} {noun} in {color_word}{suffix}"
    elif style == 1:
        text = f"a photo of a {color_word} {pattern_word} {noun}{suffix}"
    elif style == 2:
        text = f"{color_word} {pattern_word} {noun}{suffix}"
    else:
        text = f"a {color_word} {pattern_word} {noun}{suffix}"
    return " ".join(text.split())


def paraphrase_bank(per_key: int, seed: int) -> tuple[list[AttributeKey], list[list[str]]]:
    """`per_key` distinct-as-possible phrasings for every key, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    keys = all_keys()
    bank = []
    for key in keys:
        texts: list[str] = []
        for _ in range(per_key * 4):
            text = paraphrase(key, rng)
            if text not in texts:
                texts.append(text)
            if len(texts) == per_key:
                break
        while len(texts) < per_key:
            texts.append(texts[len(texts) % max(len(texts), 1)])
        bank.append(texts)
    return keys, bank
