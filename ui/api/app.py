"""The API's app factory and its workers' start-up.

`create_app(config)` returns the FastAPI app; its models and index load, and a warm-up turn
runs, when the app starts, before the worker accepts a connection: with several workers, a
request never meets one still loading. Where loading fails, /readyz says why (503).
ui.api.serving runs it under uvicorn (one process; several forked after one load); all share the
session store, so any worker serves any turn.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from retrieval.catalogues import CatalogueRef
from retrieval.compose import DEFAULT_COMPOSER
from retrieval.encoders import DEFAULT_MODEL
from retrieval.prepare import resolve_model
from ui.api import errors, routes
from ui.api.limits import ApiKeys, BodyLimit, Limits, RateLimiter
from ui.api.malloc import cap_arenas
from ui.api.store import DEFAULT_MAX_BYTES, DEFAULT_TTL_S, open_store

log = logging.getLogger(__name__)
CONFIG_ENV = "CIRCHAT_SERVE_CONFIG"  # the config, as JSON, for uvicorn's factory
DEMO_DIR = Path(__file__).parent / "demo"


class ServeConfig(BaseModel):
    """Everything a worker needs to build the same app (JSON-ready for worker processes)."""

    catalogue: CatalogueRef = Field(default_factory=CatalogueRef)
    model: str = DEFAULT_MODEL
    index: str | None = None
    composer: str = DEFAULT_COMPOSER
    rewriter: str = "rules"
    store: str | None = None  # sqlite:PATH (default) or redis://...
    session_ttl_s: float = DEFAULT_TTL_S
    max_session_bytes: int = DEFAULT_MAX_BYTES
    api_keys: str | None = None  # a file of sha256:<hex> lines
    cors: list[str] = Field(default_factory=list)
    limits: Limits = Field(default_factory=Limits)
    demo: bool = False
    mmap: bool = False  # the index memory-mapped (Ray Serve's replicas of one node share it)


class ApiContext:
    """What the routes share in one worker: the session service, the catalogue view, keys and
    rate, set once the agent is loaded and warm."""

    def __init__(self, config: ServeConfig):
        self.config, self.limits = config, config.limits
        self.keys = ApiKeys.read(config.api_keys) if config.api_keys else None
        self.limiter = RateLimiter(config.limits.rate_per_minute, config.limits.rate_burst)
        self.store = open_store(config.store, config.session_ttl_s, config.max_session_bytes)
        self.sessions = self.view = None
        self.ready, self.failure = False, ""

    def not_ready_reason(self) -> str:
        if self.failure:
            return f"the server could not load its models: {self.failure}"
        return "the models and the index are still loading: try again in a few seconds"

    def attach(self, agent) -> None:
        """Serve this agent (built here, or given by a test), after one warm-up turn."""
        from ui.api.items import CatalogueView
        from ui.api.sessions import Sessions

        name = self.config.catalogue.display_name
        self.view = CatalogueView(agent, name)
        self.sessions = Sessions(agent, self.store)
        warm_up(agent)
        self.ready = True

    def load(self) -> None:
        from agent.factory import build_agent

        c = self.config
        try:
            agent = build_agent(c.model, c.catalogue, c.index, c.composer, c.rewriter, mmap=c.mmap)
            open_instance(agent)
            self.attach(agent)
        except Exception as err:  # noqa: BLE001 (said by /readyz and the log, never raised)
            self.failure = str(err).splitlines()[0] if str(err) else type(err).__name__
            log.error("could not load the models: %s", self.failure)


def open_instance(agent) -> None:
    """Open the instance index ("other colours", "more like this") before serving, as every
    worker would on its first such request: ready before it is asked, and in the supervisor's
    memory where workers are forked from it."""
    from agent.other_colours import InstanceUnavailable

    if agent.colours.instance is not None:
        with contextlib.suppress(InstanceUnavailable):  # said by the turn that asks for it
            agent.colours.instance.get()


def warm_up(agent) -> None:
    """One untimed dialogue (an item, then words), so the first shopper's turn is not slow."""
    from agent.agent import Turn

    agent.warm_up()
    state, _ = agent.step(agent.new_state(), Turn(item=agent.gallery.catalogue.items[0].id))
    values = [agent.schema.attributes[a].values[0] for a in agent.schema.categorical[:1]]
    agent.step(state, Turn(text=" ".join(values) or "something similar"))


class WorkerHeader:
    """ASGI middleware: each answer names the worker process that served it (X-Worker)."""

    def __init__(self, app):
        self.app, self.header = app, (b"x-worker", str(os.getpid()).encode())

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def named(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        return await self.app(scope, receive, named)


def create_app(config: ServeConfig, agent=None) -> FastAPI:
    """The API over `agent` (and its gallery's catalogue) where given, else built from the config
    when the app starts."""
    ctx = ApiContext(config)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI):
        if agent is None:  # a worker accepts no connection before this: none meets a cold one
            await run_in_threadpool(ctx.load)
        yield

    app = FastAPI(
        title="circhat",
        version="1",
        description="Conversational image search for a shop's own storefront.",
        openapi_url="/v1/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    errors.install(app)
    app.include_router(routes.api)
    app.include_router(routes.health)
    if config.cors:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=config.cors,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Content-Type", "X-API-Key", "Authorization"],
            max_age=600,
        )
    app.add_middleware(BodyLimit, max_bytes=config.limits.max_body_bytes)
    app.add_middleware(WorkerHeader)
    if config.demo:
        from fastapi.staticfiles import StaticFiles

        app.mount("/demo", StaticFiles(directory=DEMO_DIR, html=True), name="demo")
    if agent is not None:
        ctx.attach(agent)
    return app


def app_from_env() -> FastAPI:
    """uvicorn's factory in each worker process: the app of the config in the environment."""
    cap_arenas()
    return create_app(ServeConfig.model_validate_json(os.environ[CONFIG_ENV]))


def prepare_serving(config_json: str, model: str) -> None:
    """Find or make what serving needs (retrieval.prepare: with model 'auto' the photo encoder
    and composition model, then the index and instance index), once in a child process before
    the workers start, so they do not race to build it and the supervisor holds no model."""
    import sys

    from retrieval.prepare import prepare

    config = ServeConfig.model_validate_json(config_json)
    try:
        prepare(config.catalogue, model, config.composer, config.index)
    except (ValueError, FileNotFoundError, KeyError) as err:
        print(f"circhat: error: {err}", file=sys.stderr)
        sys.exit(2)


def checked(config: ServeConfig) -> ServeConfig:
    """The config with its model resolved ('auto': the id prepare_serving finds or trains), after
    failing early, in one line, on an unreachable store or an unreadable keys file."""
    try:
        open_store(config.store, config.session_ttl_s, config.max_session_bytes).ping()
    except OSError as err:
        raise ValueError(f"--store {config.store}: cannot reach it ({err})") from None
    if config.api_keys:
        ApiKeys.read(config.api_keys)
    return config.model_copy(update={"model": resolve_model(config.catalogue, config.model)})


def prepare_in_child(config: ServeConfig, wanted: str) -> None:
    """prepare_serving in a fresh process, so that the caller holds no model."""
    import multiprocessing

    child = multiprocessing.get_context("spawn").Process(
        target=prepare_serving, args=(config.model_dump_json(), wanted)
    )
    child.start()
    child.join()
    if child.exitcode:
        raise ValueError("the index could not be built: see the messages above")
