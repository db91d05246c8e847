"""The endpoints: sessions and their turns, the catalogue and its items, health. Each handler
is a few lines over `Sessions` and `CatalogueView`; the agent's work runs in the thread pool."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ui.api.errors import ApiError
from ui.api.limits import key_of, read_upload
from ui.api.models import (
    CatalogueOut,
    Dialogue,
    Health,
    ItemOut,
    SessionCreated,
    SimilarOut,
    TurnAnswer,
    TurnRequest,
)

FLAGS = ("none_of_these", "undo", "reset")
TRUE = {"1", "true", "yes", "on"}

TURN_BODY = {
    "requestBody": {
        "required": False,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/TurnRequest"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "image": {"type": "string", "format": "binary"},
                        "text": {"type": "string"},
                        "pick": {"type": "string", "description": "a rank, or id:ITEM_ID"},
                        "chip": {"type": "integer"},
                        "other_colours": {"type": "string"},
                        **{flag: {"type": "boolean"} for flag in FLAGS},
                    },
                }
            },
        },
    }
}


async def context(request: Request):
    """The worker's ApiContext, once its models and index are loaded (503 before)."""
    ctx = request.app.state.ctx
    if not ctx.ready:
        raise ApiError(503, "not_ready", ctx.not_ready_reason())
    return ctx


async def caller(request: Request):
    """The checked caller of a /v1 request: its key's name (401 without a valid key where
    keys are required), else its address; each call takes one token of its rate. (Async:
    nothing here waits, so it runs on the event loop, not in a thread.)"""
    ctx = await context(request)
    who = request.client.host if request.client else "unknown"
    if ctx.keys is not None:
        who = ctx.keys.name_of(key_of(request.headers))
        if who is None:
            raise ApiError(
                401,
                "unauthorized",
                "a valid API key is required: send it as X-API-Key or Authorization: Bearer",
                {"WWW-Authenticate": "Bearer"},
            )
    ctx.limiter.check(who)
    return ctx


api = APIRouter(prefix="/v1")
health = APIRouter()


@api.post("/sessions", response_model=SessionCreated, status_code=201, tags=["sessions"])
def create_session(ctx=Depends(caller)):
    return ctx.sessions.create()


@api.post(
    "/sessions/{session_id}/turns",
    response_model=TurnAnswer,
    tags=["sessions"],
    openapi_extra=TURN_BODY,
)
async def take_turn(session_id: str, request: Request, ctx=Depends(caller)):
    """A turn: JSON (TurnRequest), or multipart/form-data with the same fields and an
    `image` file (an upload)."""
    turn, data = await _read_turn(request)
    if len(turn.text) > ctx.limits.max_message_chars:
        raise ApiError(
            422,
            "message_too_long",
            f"the message is {len(turn.text):,} characters; the limit is "
            f"{ctx.limits.max_message_chars:,}",
        )
    image = None if data is None else await run_in_threadpool(read_upload, data, ctx.limits)
    answer = await run_in_threadpool(ctx.sessions.turn, session_id, turn, image)
    return Response(answer.model_dump_json(), media_type="application/json")  # checked once


async def _read_turn(request: Request) -> tuple[TurnRequest, bytes | None]:
    kind = request.headers.get("content-type", "")
    try:
        if kind.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            return await _read_form(request)
        body = await request.body()
        return TurnRequest.model_validate_json(body or b"{}"), None
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ApiError(422, "invalid_request", f"{where}: {first['msg']}") from None


async def _read_form(request: Request) -> tuple[TurnRequest, bytes | None]:
    form = await request.form(max_files=1, max_fields=len(TurnRequest.model_fields) + 1)
    upload, fields = form.get("image"), {}
    for name, value in form.multi_items():
        if name == "image":
            continue
        if not isinstance(value, str):
            raise ApiError(422, "invalid_request", f"{name}: a text field, not a file")
        if name in FLAGS:
            fields[name] = value.strip().lower() in TRUE
        elif name in ("pick", "other_colours") and value.strip().isdigit():
            fields[name] = int(value)  # a rank; an all-digit item id is sent as id:ITEM_ID
        else:
            fields[name] = value
    data = None
    if upload is not None:
        if isinstance(upload, str):
            raise ApiError(422, "bad_image", "image: send the picture as a file part")
        data = await upload.read()
    return TurnRequest.model_validate(fields), data


@api.get("/sessions/{session_id}", response_model=Dialogue, tags=["sessions"])
def get_session(session_id: str, ctx=Depends(caller)):
    return ctx.sessions.dialogue(session_id)


@api.delete("/sessions/{session_id}", status_code=204, tags=["sessions"])
def delete_session(session_id: str, ctx=Depends(caller)):
    ctx.sessions.delete(session_id)
    return Response(status_code=204)


@api.get("/catalogue", response_model=CatalogueOut, tags=["catalogue"])
def get_catalogue(ctx=Depends(caller)):
    return ctx.view.summary


@api.get("/items/{item_id}", response_model=ItemOut, tags=["catalogue"])
def get_item(item_id: str, ctx=Depends(caller)):
    return ctx.view.item(item_id)


@api.get(
    "/items/{item_id}/image",
    tags=["catalogue"],
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}}}},
)
def get_item_image(
    item_id: str,
    size: int | None = Query(None, description="longest side in pixels"),
    ctx=Depends(context),
):
    """The item's picture (public, like a shop's product images: an <img> sends no key)."""
    data, media = ctx.view.image(item_id, size)
    return Response(data, media_type=media, headers={"Cache-Control": "public, max-age=86400"})


@api.get("/items/{item_id}/similar", response_model=SimilarOut, tags=["catalogue"])
def get_similar(item_id: str, mode: Literal["similar", "colours"] = "similar", ctx=Depends(caller)):
    """More like this item, or the same style in other colours; no session."""
    return ctx.view.similar(item_id, mode)


@health.get("/healthz", response_model=Health, tags=["health"])
def healthz():
    return Health(status="ok")


@health.get("/readyz", response_model=Health, tags=["health"])
def readyz(request: Request):
    ctx = request.app.state.ctx
    if not ctx.ready:
        raise ApiError(503, "not_ready", ctx.not_ready_reason())
    try:
        ctx.sessions.store.ping()
    except ConnectionError as err:
        raise ApiError(
            503, "store_unreachable", f"the session store cannot be reached: {err}"
        ) from None
    return Health(status="ready")
