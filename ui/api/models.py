"""The records on the wire: what a client sends and what the API answers (pydantic, so the
OpenAPI document at /v1/openapi.json describes each)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TurnRequest(BaseModel):
    """One turn: any of these (an upload comes as the multipart field `image`). `pick` and
    `other_colours` take a result's rank (from 1) or an item id; `pick` also takes any
    catalogue item's id ("more like this" from a product page)."""

    model_config = ConfigDict(extra="forbid")

    text: str = ""
    pick: int | str | None = None
    chip: int | None = Field(None, description="a chip's rank (from 1) after the last turn")
    none_of_these: bool = False
    other_colours: int | str | None = None
    undo: bool = False
    reset: bool = False


class ConstraintOut(BaseModel):
    attribute: str
    value: str
    polarity: Literal["require", "avoid"]


class ChipOut(BaseModel):
    attribute: str
    value: str


class ResultOut(BaseModel):
    rank: int
    id: str
    title: str
    attributes: dict[str, str]
    score: float
    matches: list[str] = Field(default_factory=list)
    image_url: str


class TurnAnswer(BaseModel):
    """The session after a turn: the reply in words, what was searched, the results."""

    session_id: str
    version: int = Field(description="the stored session's version after this turn")
    turns: int = Field(description="turns in the dialogue so far")
    reply: str
    caption: str
    constraints: list[ConstraintOut]
    new_search: bool
    matching: int | None = None
    chips: list[ChipOut]
    question: str | None = None
    results: list[ResultOut]
    timings: dict[str, float] = Field(description="ms: the agent's stages and the API's total")


class SessionCreated(BaseModel):
    session_id: str
    version: int


class TurnSummary(BaseModel):
    action: str
    user_text: str
    caption: str
    constraints: list[ConstraintOut]
    new_search: bool
    results: list[ResultOut]


class Dialogue(BaseModel):
    session_id: str
    version: int
    turns: list[TurnSummary]
    constraints: list[ConstraintOut]


class FacetValue(BaseModel):
    value: str
    count: int


class Facet(BaseModel):
    name: str
    label: str
    values: list[FacetValue]


class CatalogueOut(BaseModel):
    name: str
    size: int
    kind: str | None = Field(None, description="the attribute that says what kind of item it is")
    attributes: list[Facet]


class ItemOut(BaseModel):
    id: str
    title: str
    attributes: dict[str, str]
    image_url: str


class SimilarOut(BaseModel):
    item_id: str
    mode: Literal["similar", "colours"]
    note: str = ""
    results: list[ResultOut]


class Health(BaseModel):
    status: str
    detail: str = ""
