"""How well an encoder knows the catalogue: zero-shot attributes, caption search, synonyms."""

from __future__ import annotations

import numpy as np

from retrieval.catalogues import fmnist_vocab as vocab
from retrieval.encoders import Encoder
from retrieval.index import SearchIndex

ATTRIBUTE_NAMES = ("category", "color", "pattern")

# Synonyms never used in training (retrieval/vocab.py TRAIN_SYNONYMS), fixed before measuring.
HELD_OUT_SYNONYMS: dict[str, dict[str, str]] = {
    "color": {
        "crimson": "red",
        "scarlet": "red",
        "navy": "blue",
        "sky blue": "blue",
        "lime": "green",
        "forest green": "green",
        "mustard": "yellow",
        "golden": "yellow",
        "fuchsia": "pink",
        "hot pink": "pink",
        "lavender": "purple",
        "lilac": "purple",
        "amber": "orange",
        "coffee": "brown",
        "chestnut": "brown",
        "khaki": "beige",
        "sand": "beige",
        "charcoal": "grey",
        "silver": "grey",
        "jet black": "black",
        "ebony": "black",
        "ivory": "white",
        "snow white": "white",
    },
    "pattern": {
        "pinstriped": "striped",
        "polka-dot": "dotted",
        "polka dot": "dotted",
        "plaid": "checked",
        "gingham": "checked",
        "tartan": "checked",
        "unpatterned": "plain",
    },
    "category": {
        "gown": "dress",
        "sundress": "dress",
        "jumper": "pullover",
        "slacks": "trousers",
        "jeans": "trousers",
        "overcoat": "coat",
        "parka": "coat",
        "sneakers": "sneaker",
        "running shoes": "sneaker",
        "purse": "bag",
        "tote": "bag",
        "flip-flops": "sandal",
        "button-down shirt": "shirt",
        "booties": "ankle boot",
    },
}


def synonym_queries() -> list[tuple[str, str, str, str]]:
    """(query text, attribute, canonical value, synonym): each synonym in several contexts."""
    queries = []
    for synonym, value in HELD_OUT_SYNONYMS["color"].items():
        queries += [(f"a {synonym} {c}", "color", value, synonym) for c in vocab.CATEGORIES]
    for synonym, value in HELD_OUT_SYNONYMS["pattern"].items():
        queries += [(f"a {synonym} {c}", "pattern", value, synonym) for c in vocab.CATEGORIES]
    for synonym, value in HELD_OUT_SYNONYMS["category"].items():
        queries += [(f"a {k} {synonym}", "category", value, synonym) for k in vocab.COLORS]
    return queries


def caption_prompts(encoder: Encoder, combos: list[dict], ensemble: int) -> np.ndarray:
    """(480, D) one prompt per combination: its canonical caption, or (ensemble > 0) the mean
    of that many paraphrases, as CLIP's zero-shot prompt ensembles do."""
    if not ensemble:
        return encoder.encode_texts([vocab.caption(**c) for c in combos])
    from retrieval.training.captions import paraphrase_bank

    keys, bank = paraphrase_bank(ensemble, seed=1)
    row = {key: i for i, key in enumerate(keys)}
    names = list(vocab.ATTRIBUTES)
    texts = []
    for c in combos:
        key = tuple(vocab.ATTRIBUTES[n].index(c[n]) for n in names)
        texts += bank[row[key]]
    vectors = encoder.encode_texts(texts).reshape(len(combos), ensemble, -1).mean(1)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def zero_shot_accuracy(encoder: Encoder, index: SearchIndex, ensemble: int = 0) -> dict[str, float]:
    """Per-attribute accuracy of the nearest of the 480 caption prompts to each gallery image."""
    combos = vocab.attribute_combinations()
    prompts = caption_prompts(encoder, combos, ensemble)  # (480, D)
    vectors = np.asarray(index.vectors, dtype=np.float32)
    best = np.concatenate(
        [(vectors[i : i + 4096] @ prompts.T).argmax(1) for i in range(0, len(vectors), 4096)]
    )
    return {
        name: float(
            np.mean(
                [combos[b][name] == item.attributes[name] for b, item in zip(best, index.items)]
            )
        )
        for name in ATTRIBUTE_NAMES
    }


def text_to_image_hit_at_10(encoder: Encoder, index: SearchIndex) -> float:
    """Share of the 480 full captions with an exactly matching item in the top 10."""
    combos = vocab.attribute_combinations()
    hits = index.search(encoder.encode_texts([vocab.caption(**c) for c in combos]), k=10)
    return float(
        np.mean([any(h.item.attributes == c for h in row) for c, row in zip(combos, hits)])
    )


def synonym_precision_at_10(encoder: Encoder, index: SearchIndex) -> tuple[float, dict[str, float]]:
    """Mean precision@10 on the named attribute for held-out synonyms, and per synonym."""
    queries = synonym_queries()
    hits = index.search(encoder.encode_texts([q[0] for q in queries]), k=10)
    per_query = [
        np.mean([h.item.attributes.get(attr) == value for h in row])
        for (_, attr, value, _), row in zip(queries, hits)
    ]
    per_synonym: dict[str, list[float]] = {}
    for (_, _, _, synonym), precision in zip(queries, per_query):
        per_synonym.setdefault(synonym, []).append(float(precision))
    return float(np.mean(per_query)), {s: float(np.mean(v)) for s, v in per_synonym.items()}


def synonym_precision_oracle(encoder: Encoder, index: SearchIndex) -> float | None:
    """Synonym precision@10 of an oracle image tower for a trained fashion-mini: every
    gallery vector replaced by the mean of the text tower's vectors of all the training
    captions its item satisfies (what the contrastive loss pulls each image toward).
    It tells how far the frozen text tower lets synonyms go; None for other encoders."""
    from retrieval.training.captions import paraphrase_bank

    config = getattr(encoder, "info", {}).get("train_config")
    if not config:
        return None
    keys, bank = paraphrase_bank(config["paraphrases_per_key"], config["seed"])
    per_key = len(bank[0])
    caption_vectors = encoder.encode_texts([t for texts in bank for t in texts])
    key_vectors = caption_vectors.reshape(len(keys), per_key, -1).mean(1)
    key_values = np.array([[-1 if k is None else k for k in key] for key in keys])
    combos = vocab.attribute_combinations()
    prototypes = []
    for combo in combos:
        values = np.array([vocab.ATTRIBUTES[n].index(combo[n]) for n in ATTRIBUTE_NAMES])
        satisfied = ((key_values == -1) | (key_values == values)).all(1)
        prototypes.append(key_vectors[satisfied].mean(0))
    prototypes = np.array(prototypes) / np.linalg.norm(prototypes, axis=1, keepdims=True)
    row = {tuple(c[n] for n in ATTRIBUTE_NAMES): i for i, c in enumerate(combos)}
    items = [tuple(item.attributes[n] for n in ATTRIBUTE_NAMES) for item in index.items]
    gallery = prototypes[[row[a] for a in items]]
    queries = synonym_queries()
    scores = encoder.encode_texts([q[0] for q in queries]) @ gallery.T
    top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
    column = {name: i for i, name in enumerate(ATTRIBUTE_NAMES)}
    return float(
        np.mean(
            [
                np.mean([items[j][column[attr]] == value for j in rows])
                for (_, attr, value, _), rows in zip(queries, top)
            ]
        )
    )


def evaluate_encoder(encoder: Encoder, index: SearchIndex) -> dict:
    mean_synonym, per_synonym = synonym_precision_at_10(encoder, index)
    info = getattr(encoder, "info", {})
    return {
        "zero_shot_accuracy": zero_shot_accuracy(encoder, index),
        "zero_shot_accuracy_prompt_ensemble": zero_shot_accuracy(encoder, index, ensemble=16),
        "text_to_image_hit_at_10": text_to_image_hit_at_10(encoder, index),
        "synonym_precision_at_10": mean_synonym,
        "train_seconds": info.get("train_seconds"),
        "synonym_precision_by_synonym": per_synonym,
        "synonym_precision_oracle": synonym_precision_oracle(encoder, index),
        "model_id": encoder.model_id,
        "gallery": {"catalogue": index.manifest.catalogue.name, "items": len(index)},
    }
