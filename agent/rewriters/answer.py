"""What an LLM must answer for a catalogue: a pydantic model whose JSON schema names every
attribute as a const and its values as an enum, and the grammar that enforces that schema."""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from retrieval.catalogues.schema import CatalogueSchema, fmnist_schema

MAX_CONSTRAINTS = 6
MAX_CAPTION_CHARS = 200
_STRICT = ConfigDict(extra="forbid")


@lru_cache(maxsize=16)
def _answer_model(schema_json: str) -> type[BaseModel]:
    schema = CatalogueSchema.model_validate_json(schema_json)
    choices = []
    for i, attribute in enumerate(schema.categorical):
        values = tuple(schema.attributes[attribute].values)
        choices.append(
            create_model(  # value first: a tiny model picks the value right after the message
                f"Constraint{i}",
                __config__=_STRICT,
                value=(Literal[values], ...),
                attribute=(Literal[attribute], ...),
                polarity=(Literal["require", "avoid"], "require"),
            )
        )
    if not choices:  # a catalogue without attributes: the answer is a caption only
        constraints = (list[dict], Field(max_length=0))
    else:
        item = Annotated[Union[tuple(choices)], Field(discriminator="attribute")]  # noqa: UP007
        constraints = (list[item], Field(max_length=MAX_CONSTRAINTS))
    return create_model(
        "LLMAnswer",
        __config__=_STRICT,
        caption=(str, Field("", max_length=MAX_CAPTION_CHARS)),
        constraints=constraints,
    )


def answer_model(schema: CatalogueSchema) -> type[BaseModel]:
    """The pydantic model an LLM answer must satisfy for this catalogue: every constraint
    names one of its attributes and one of that attribute's values (enums in the JSON
    schema), so a model that follows the schema can only answer values the catalogue has."""
    return _answer_model(schema.model_dump_json(include={"attributes"}))


def generation_schema(
    schema: CatalogueSchema, caption: bool = True, max_items: int = MAX_CONSTRAINTS
) -> dict:
    """`answer_model(schema)`'s JSON schema as a model should generate it: every key
    required (so the grammar leaves nothing to chance), the caption only if asked for."""
    spec = answer_model(schema).model_json_schema()
    for definition in [spec, *spec.get("$defs", {}).values()]:
        definition["required"] = list(definition.get("properties", {}))
        definition["additionalProperties"] = False
        for prop in definition.get("properties", {}).values():
            prop.pop("default", None)
    if not caption:
        del spec["properties"]["caption"]
        spec["required"] = ["constraints"]
    spec["properties"]["constraints"]["maxItems"] = min(max_items, MAX_CONSTRAINTS)
    return spec


@lru_cache(maxsize=16)
def _grammar(spec_json: str):
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read once, when llama.cpp loads
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_json_schema(spec_json, verbose=False)


def grammar_for(spec: dict):
    """A llama.cpp grammar that only accepts JSON fitting `spec`. Built here, not by
    `response_format`, because the library silently falls back to any JSON where it cannot
    convert a schema; here that raises ValueError naming the schema's problem."""
    try:
        return _grammar(json.dumps(spec))
    except Exception as err:  # the converter raises bare Exceptions and ValueErrors
        raise ValueError(f"the answer schema cannot be turned into a grammar: {err}") from None


def parse_answer(raw: str, schema: CatalogueSchema | None = None) -> BaseModel:
    """The first JSON object in a model's answer, validated; ValueError with a reason otherwise."""
    match = re.search(r"\{.*\}", raw, re.DOTALL)
    if not match:
        raise ValueError("no JSON object in the answer")
    try:  # strict=False: a grammar lets raw control characters into strings
        data = json.loads(match.group(0), strict=False)
    except json.JSONDecodeError as err:
        raise ValueError(f"invalid JSON ({err.msg})") from None
    try:
        return answer_model(schema or fmnist_schema()).model_validate(data)
    except ValidationError as err:
        raise ValueError(f"answer does not fit the schema ({err.errors()[0]['msg']})") from None
