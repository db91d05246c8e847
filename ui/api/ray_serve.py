"""`circhat serve --ray --replicas N`: the same FastAPI app as replicas on Ray Serve.

Each replica is a Ray actor that builds the app from the config (Serve's FastAPI ingress with
a builder, so nothing is pickled but the config): it holds the encoder, the composition model
and the index, memory-mapped where FAISS supports it (the replicas of one node share its
pages), and no session: dialogues live in the shared store (Redis where the replicas span
machines; SQLite on one machine), so any replica serves any turn. Serve's proxy on each node
answers on `--host`/`--port` and routes each request to a replica; the answer's X-Worker
header names the replica's process.
"""

from __future__ import annotations

import contextlib
import signal
import sys

from ui.api.app import ServeConfig, checked, create_app, prepare_in_child

APP_NAME = "circhat"
# requests a replica takes at once (Serve's default, 5, queues a burst in the proxy; turns of
# one replica run in its thread pool, as under uvicorn)
MAX_ONGOING = 32


def deployment(config: ServeConfig, replicas: int, cpus: float = 1.0):
    """The Serve application: `replicas` copies of the API's app, each built on its actor."""
    from ray import serve

    config = config.model_copy(update={"mmap": True})

    def build():  # runs on each replica: the app loads the agent at its start-up (lifespan)
        return create_app(config)

    @serve.deployment(
        name="api",
        num_replicas=replicas,
        ray_actor_options={"num_cpus": cpus},
        max_ongoing_requests=MAX_ONGOING,
        health_check_period_s=10,
        health_check_timeout_s=60,
        logging_config={"log_level": "WARNING", "enable_access_log": False},
    )
    @serve.ingress(build)
    class CirchatApi:
        pass

    return CirchatApi.bind()


def start(
    config: ServeConfig,
    replicas: int,
    host: str = "127.0.0.1",
    port: int = 8000,
    cpus: float = 1.0,
) -> None:
    """Deploy on the Ray cluster this process is connected to; returns once every replica
    has loaded its models and index (their start-up runs before Serve reports them ready)."""
    from ray import serve

    serve.start(http_options={"host": host, "port": port})
    serve.run(deployment(config, replicas, cpus), name=APP_NAME, route_prefix="/")


def stop() -> None:
    from ray import serve

    with contextlib.suppress(Exception):  # the cluster may already be gone
        serve.delete(APP_NAME)
        serve.shutdown()


def check_store(config: ServeConfig, nodes: int) -> None:
    """Replicas on several machines must share a session store that all of them reach."""
    store = config.store or ""
    if nodes > 1 and not store.startswith(("redis://", "rediss://")):
        raise ValueError(
            f"--store {store or '(default SQLite)'}: the Ray cluster has {nodes} nodes; give "
            "--store redis://HOST:PORT/0 so that every replica reaches the sessions"
        )


def serve_on_ray(
    config: ServeConfig,
    replicas: int,
    address: str | None,
    host: str = "127.0.0.1",
    port: int = 8000,
    cpus: float = 1.0,
) -> None:
    """Join the cluster at `address` (none: start one on this machine), deploy, and keep
    serving until this process is stopped (SIGTERM or Ctrl-C undeploys)."""
    import ray

    wanted = config.model
    config = checked(config)
    config.catalogue.open()  # a missing folder or metadata file: one line, before Ray
    prepare_in_child(config, wanted)  # the index built once, before the replicas load it
    ray.init(address=address, include_dashboard=False, logging_level="WARNING")
    try:
        check_store(config, len([n for n in ray.nodes() if n.get("Alive")]))
        start(config, replicas, host, port, cpus)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        print(f"circhat: serving on http://{host}:{port} with {replicas} Ray Serve replicas")
        sys.stdout.flush()
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        ray.shutdown()
