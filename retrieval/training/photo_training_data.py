"""The arrays a photo head trains on: descriptors, captions with what each asserts, prompts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from retrieval.catalogues.base import Item
from retrieval.catalogues.schema import CatalogueSchema


def caption_codes(captions: list[tuple[str, dict]], names: list[str], codes: dict) -> np.ndarray:
    """(C, A) code of the value each caption asserts per attribute (-1 where it says none)."""
    out = np.full((len(captions), len(names)), -1, np.int64)
    for row, (_, asserted) in enumerate(captions):
        for name, value in asserted.items():
            out[row, names.index(name)] = codes[name].get(value, -2)
    return out


@dataclass
class TrainingData:
    schema: CatalogueSchema
    descriptors: torch.Tensor  # (N, F)
    train_rows: np.ndarray
    test_rows: np.ndarray
    captions_of: list[list[int]]  # per item: rows of `texts` that describe it (train items)
    texts: torch.Tensor  # (T, D) caption and prompt vectors
    image_codes: np.ndarray  # (N, A) each item's value code per attribute (and its id)
    text_codes: np.ndarray  # (T, A) what each caption asserts (-1: nothing)
    prompt_vectors: dict[str, torch.Tensor]  # attribute -> (V, D) one prompt per value
    prompt_labels: dict[str, torch.Tensor]  # attribute -> (N,) value index, -1 where missing
    labels: dict[str, list[str]]  # attribute -> each item's value ("" where missing)
    values: dict[str, list[str]]

    def positives(self, rows: np.ndarray, captions: np.ndarray) -> torch.Tensor:
        """(B, B) bool: image i satisfies caption j (every value the caption asserts)."""
        said = self.text_codes[captions][None, :, :]  # (1, B, A)
        have = self.image_codes[rows][:, None, :]  # (B, 1, A)
        return torch.from_numpy(((said == -1) | (said == have)).all(axis=2))

    @classmethod
    def build(
        cls,
        schema: CatalogueSchema,
        items: list[Item],
        descriptors: np.ndarray,
        captions: list[list[tuple[str, dict]]],
        texts: list[str],
        vectors: np.ndarray,
        prompts: dict[str, list[str]],
        test: np.ndarray,
    ) -> TrainingData:
        names = [*schema.categorical, "id"]
        labels = {a: [item.attributes.get(a, "") for item in items] for a in schema.categorical}
        labels["id"] = [item.id for item in items]
        codes = {a: {v: i for i, v in enumerate(dict.fromkeys(labels[a]))} for a in names}
        image_codes = np.stack(
            [[codes[a][item_value] for item_value in labels[a]] for a in names], 1
        )
        row_of = {t: i for i, t in enumerate(texts)}
        assertions: dict[int, dict] = {}
        for caps in captions:  # a text two items share asserts only what they have in common
            for text, asserted in caps:
                row = row_of[text]
                known = assertions.get(row)
                assertions[row] = (
                    asserted
                    if known is None
                    else {k: v for k, v in known.items() if asserted.get(k) == v}
                )
        text_codes = caption_codes(
            [("", assertions.get(i, {})) for i in range(len(texts))], names, codes
        )
        values = {a: list(schema.attributes[a].values) for a in schema.categorical}
        prompt_vectors = {
            a: torch.from_numpy(vectors[[row_of[p] for p in prompts[a]]])
            for a in schema.categorical
        }
        prompt_labels = {
            a: torch.tensor([values[a].index(v) if v in values[a] else -1 for v in labels[a]])
            for a in schema.categorical
        }
        return cls(
            schema=schema,
            descriptors=torch.from_numpy(descriptors),
            train_rows=np.flatnonzero(~test),
            test_rows=np.flatnonzero(test),
            captions_of=[[row_of[t] for t, _ in caps] for caps in captions],
            texts=torch.from_numpy(vectors),
            image_codes=image_codes,
            text_codes=text_codes,
            prompt_vectors=prompt_vectors,
            prompt_labels=prompt_labels,
            labels={a: labels[a] for a in schema.categorical},
            values=values,
        )
