"""cirevl: training-free, after CIReVL: edit a description of the reference, encode it."""

from __future__ import annotations

import itertools
import math
from typing import Literal, Protocol

import numpy as np

from retrieval.catalogues.schema import CatalogueSchema, fmnist_schema
from retrieval.compose.base import Composer
from retrieval.compose.config import ComposerConfig
from retrieval.compose.kinds import ComposerKind

MAX_JOINT_PROMPTS = 4096  # describe jointly while the combinations are this few (fmnist: 480)


class CirevlConfig(ComposerConfig):
    kind: Literal["cirevl"]
    image_weight: float  # fraction of the reference added to the edited description
    keep_unparsed: bool  # append the request's unmapped words to the description


class ReadsEdits(Protocol):
    """Reads a request into attribute changes: the agent's rewriter."""

    schema: CatalogueSchema | None  # the catalogue's (None: fmnist-color's)

    def rewrite(self, text: str): ...  # -> .constraints (attribute, value, polarity), .unmapped


class EditedDescription(Composer):
    """CIReVL without an LLM: describe the reference by its nearest caption prompt (jointly
    over the catalogue's attributes where their combinations are few, else attribute by
    attribute), apply the requested attribute changes to that description, encode it, and
    add some of the image."""

    name = "cirevl"

    def __init__(self, encoder, config, rewriter: ReadsEdits | None = None):
        super().__init__(encoder, config)
        if rewriter is None:
            raise ValueError("cirevl reads each request's attribute changes: give it a rewriter")
        self.rewriter = rewriter
        self.schema = rewriter.schema or fmnist_schema()
        names = [n for n in self.schema.categorical if n not in self.schema.ancestors_of_kind()]
        sizes = [len(self.schema.attributes[n].values) for n in names]
        groups = [names] if math.prod(sizes) <= MAX_JOINT_PROMPTS else [[n] for n in names]
        self.groups = [(group, _combinations(self.schema, group)) for group in groups]
        self.prompts = [
            encoder.encode_texts([self.schema.caption(c) for c in combos])
            for _, combos in self.groups
        ]  # one (C, D) table per group

    def describe(self, references: np.ndarray) -> list[dict[str, str]]:
        """Attributes of the nearest caption prompt(s) to each reference vector."""
        described = [{} for _ in references]
        for (_, combos), prompts in zip(self.groups, self.prompts):
            for row, best in zip(described, (references @ prompts.T).argmax(1)):
                row.update(combos[best])
        return described

    def edit(self, description: dict[str, str], text: str) -> str:
        read = self.rewriter.rewrite(text)
        wanted = {c.attribute: c.value for c in read.constraints if c.polarity == "require"}
        described = self.schema.caption({**description, **wanted})
        if self.config.keep_unparsed and read.unmapped:
            return f"{described} {read.unmapped}"
        return described

    def _compose(self, references: np.ndarray, texts: list[str], images=None) -> np.ndarray:
        weight = self.config.image_weight
        edited = [self.edit(d, t) for d, t in zip(self.describe(references), texts)]
        return self.encoder.encode_texts(edited) + weight * references


def _combinations(schema: CatalogueSchema, names: list[str]) -> list[dict[str, str]]:
    """Every combination of the named attributes' values, in the schema's order."""
    values = [schema.attributes[n].values for n in names]
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


KIND = ComposerKind(config=CirevlConfig, composer=EditedDescription)
