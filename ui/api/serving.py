"""`circhat serve`: the API under uvicorn. One worker: uvicorn's own server, which builds the
app from the config in the environment (ui.api.app.app_from_env).

`--workers N` (N > 1): the models, the index and the agent load once, in the
supervisor, and the workers are forked from it after the load, so their pages (weights, the
index, the catalogue) are shared copy-on-write instead of loaded N times (the "preload"
pattern of gunicorn). uvicorn's own supervisor cannot do this: it spawns fresh interpreters.

Fork-safety: the supervisor runs torch and FAISS on one thread while it loads (an OpenMP pool
started before a fork hangs the child's next parallel op), starts no thread, and opens no
session store; each worker opens its own store connection and restores the thread counts.
`gc.freeze()` before forking keeps the collector from writing to (so copying) every object.

The supervisor replaces a worker that dies (a SIGKILL, an out-of-memory kill) by forking a
fresh one from the loaded state; SIGTERM or SIGINT stops the workers and then itself. A worker
that fails before it serves (uvicorn's start-up failure: the same would happen again) stops
the whole server, with status 3.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import socket
import sys
import time

from ui.api.app import (
    CONFIG_ENV,
    ServeConfig,
    checked,
    create_app,
    prepare_in_child,
    prepare_serving,
)
from ui.api.malloc import cap_arenas

log = logging.getLogger(__name__)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
RESPAWN_PAUSE_S = 1.0  # a worker that dies at once is not forked again in a tight loop
STARTUP_FAILURE = 3  # uvicorn's exit status where the app or the socket cannot start


def serve(config: ServeConfig, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Run the API under uvicorn with `workers` processes sharing the session store."""
    import uvicorn

    wanted = config.model  # 'auto': found or trained by prepare_serving, served as its model id
    config = checked(config)
    if workers == 1:
        os.environ[CONFIG_ENV] = config.model_dump_json()
        config.catalogue.open()  # a missing folder or metadata file: one line, before serving
        prepare_serving(config.model_dump_json(), wanted)
        uvicorn.run(
            "ui.api.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
        return
    prepare_in_child(config, wanted)  # the index built (many threads) in a process of its own
    code = serve_forked(config, host, port, workers)
    if code:
        sys.exit(code)


class ThreadCounts:
    """torch's and FAISS's thread counts: one while the supervisor loads, the usual ones back
    in each worker."""

    def __init__(self):
        import faiss
        import torch

        self.torch, self.faiss = torch.get_num_threads(), faiss.omp_get_max_threads()

    @staticmethod
    def single() -> None:
        import faiss
        import torch

        torch.set_num_threads(1)
        faiss.omp_set_num_threads(1)

    def restore(self) -> None:
        import faiss
        import torch

        torch.set_num_threads(self.torch)
        faiss.omp_set_num_threads(self.faiss)


def load_shared(config: ServeConfig):
    """The agent, loaded and warmed in this process on one thread, the instance
    index ("other colours") opened too, so the workers share all of it."""
    from agent.factory import build_agent
    from ui.api.app import open_instance, warm_up

    c = config
    agent = build_agent(c.model, c.catalogue, c.index, c.composer, c.rewriter, mmap=c.mmap)
    warm_up(agent)
    open_instance(agent)
    return agent


def listening_socket(host: str, port: int) -> socket.socket:
    """The socket every worker accepts on, bound once here."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise ValueError(f"cannot listen on {host}:{port} ({err.strerror})") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class Supervisor:
    """Forks `workers` processes that serve `config`'s app over the loaded agent on `sock`."""

    def __init__(self, config: ServeConfig, agent, sock, workers: int, threads):
        self.config, self.agent = config, agent
        self.sock, self.workers, self.threads = sock, workers, threads
        self.children: set[int] = set()
        self.stopping, self.exit_code = False, 0

    def fork_worker(self) -> None:
        sys.stdout.flush()
        sys.stderr.flush()  # else the child writes the parent's buffered lines again
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                self._serve_in_child()
                code = 0
            except SystemExit as stop:  # uvicorn's start-up failure
                code = stop.code if isinstance(stop.code, int) else 1
            except Exception:  # noqa: BLE001 (said here; the supervisor forks a new worker)
                log.exception("worker %d failed", os.getpid())
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.children.add(pid)

    def _serve_in_child(self) -> None:
        import uvicorn

        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)  # uvicorn installs its own while it serves
        self.threads.restore()  # the loaded objects stay frozen: a collection never writes them
        cap_arenas()  # before the worker's threads start
        app = create_app(self.config, self.agent)  # its own store connection
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5)
        uvicorn.Server(config).run(sockets=[self.sock])

    def _stop(self, *_) -> None:
        self.stopping = True

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT (0) or a worker's start-up failure (its status)."""
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._stop)
        gc.collect()
        gc.freeze()
        for _ in range(self.workers):
            self.fork_worker()
        while not self.stopping:
            self._reap_and_replace()
            time.sleep(0.2)
        self._stop_children()
        return self.exit_code

    def _reap_and_replace(self) -> None:
        for pid in list(self.children):
            done, status = os.waitpid(pid, os.WNOHANG)
            if not done:
                continue
            self.children.discard(pid)
            if self.stopping:
                continue
            if os.WIFEXITED(status) and os.WEXITSTATUS(status) == STARTUP_FAILURE:
                log.error("worker %d could not start: stopping the server", pid)
                self.stopping, self.exit_code = True, STARTUP_FAILURE
                continue
            log.warning("worker %d ended (%s): forking a new one", pid, _how(status))
            time.sleep(RESPAWN_PAUSE_S)
            if not self.stopping:
                self.fork_worker()

    def _stop_children(self, grace_s: float = 10.0) -> None:
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while self.children and time.monotonic() < deadline:
            for pid in list(self.children):
                if os.waitpid(pid, os.WNOHANG)[0]:
                    self.children.discard(pid)
            time.sleep(0.1)
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        return signal.Signals(os.WTERMSIG(status)).name
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def serve_forked(config: ServeConfig, host: str, port: int, workers: int) -> int:
    """Load once here, bind, then fork `workers` workers and look after them until stopped;
    returns the exit status."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # no Rust thread pool to fork
    sock = listening_socket(host, port)  # a port in use is said before the load, not after
    threads = ThreadCounts()
    ThreadCounts.single()
    try:
        agent = load_shared(config)
        return Supervisor(config, agent, sock, workers, threads).run()
    finally:
        sock.close()
