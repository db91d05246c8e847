"""`circhat eval encoder --catalogue FOLDER`: an encoder's zero-shot figures on a catalogue's
test part (the same split as its photo model's card), for any encoder."""

from __future__ import annotations

from collections import Counter

import numpy as np

from retrieval.catalogues import Catalogue
from retrieval.catalogues.split import SPLIT_RULE, split
from retrieval.encoders import Encoder
from retrieval.indexing.embedding_cache import EmbeddingCache
from retrieval.indexing.local import encode_catalogue
from retrieval.training.photo_captions import attribute_prompts
from retrieval.training.zero_shot import TOP_COLOURS, attribute_figures, top_values_accuracy


def evaluate_on_catalogue(encoder: Encoder, catalogue: Catalogue, progress: bool = True) -> dict:
    """{"zero_shot_accuracy": {attribute: x}, "text_to_image_precision_at_10": {attribute: x},
    "majority_rate": {attribute: x}, "items": n, ...} on the catalogue's test part."""
    test, train = split(catalogue, "test"), split(catalogue, "train")
    cache = EmbeddingCache()
    try:
        encoded = encode_catalogue(test, encoder, cache, progress=progress)
    finally:
        cache.close()
    images = np.asarray(encoded.vectors, np.float32)
    schema = catalogue.schema
    prompts = {a: encoder.encode_texts(texts) for a, texts in attribute_prompts(schema).items()}
    labels = {a: [item.attributes.get(a, "") for item in encoded.items] for a in prompts}
    train_labels = {a: [item.attributes.get(a, "") for item in train.items] for a in prompts}
    values = {a: list(schema.attributes[a].values) for a in prompts}
    report = attribute_figures(images, prompts, labels, values, train_labels)
    for name in schema.by_role("color")[:1]:
        frequent = [
            v for v, _ in Counter(v for v in train_labels[name] if v).most_common(TOP_COLOURS)
        ]
        accuracy = top_values_accuracy(images, prompts[name], labels[name], values[name], frequent)
        report[f"zero_shot_accuracy_{name}_top_{TOP_COLOURS}"] = (
            None if accuracy != accuracy else round(accuracy, 4)
        )
    report.update(
        items=len(encoded.items),
        model_id=encoder.model_id,
        catalogue=catalogue.name,
        split=SPLIT_RULE,
        skipped=len(encoded.skipped),
    )
    return report


def markdown(report: dict) -> str:
    lines = [
        "| attribute | zero-shot accuracy | majority class | text-to-image P@10 |",
        "|---|---|---|---|",
    ]
    for name, accuracy in report["zero_shot_accuracy"].items():
        precision = report["text_to_image_precision_at_10"].get(name)
        lines.append(
            f"| {name} | {accuracy:.3f} | {report['majority_rate'][name]:.3f} | "
            f"{'-' if precision is None else f'{precision:.3f}'} |"
        )
    return "\n".join(lines)
