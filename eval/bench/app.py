"""App start-up for `circhat bench`: `circhat app` until it answers, against importing its libraries."""

from __future__ import annotations

import contextlib
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from retrieval.catalogues import CatalogueRef


def wait_until_answered(
    url: str,
    proc: subprocess.Popen,
    name: str,
    output,
    timeout: float,
    interval: float = 0.2,
    request_timeout: float = 1.0,
) -> None:
    """Poll `url` until it answers 200; RuntimeError with the server's last `output()` when
    it exits first, or when `timeout` seconds pass."""
    started = time.perf_counter()
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited: {output()}")
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"{name} was not ready within {timeout:.0f} s")
        try:
            with urllib.request.urlopen(url, timeout=request_timeout) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _time_subprocess(command: list[str], env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
    return time.perf_counter() - t


def cold_start(
    model: str,
    index_dir: str | Path,
    composer: str | None = None,
    catalogue: CatalogueRef | None = None,
    timeout: float = 180.0,
) -> dict:
    """Seconds from `circhat app` (an existing index) to its first HTTP 200, vs importing
    torch + faiss + transformers + gradio in a fresh interpreter (the floor of such an app).
    Both run after one untimed import, so the OS file cache is warm (an app restart)."""
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    imports = [sys.executable, "-c", "import torch, faiss, transformers, gradio"]
    _time_subprocess(imports, env)  # untimed: bring the libraries back into the page cache
    baseline = _time_subprocess(imports, env)
    args = ["--model", model, "--index", str(index_dir)]
    args += ["--composer", composer] if composer else []
    args += shlex.split((catalogue or CatalogueRef()).command_line())
    started = time.perf_counter()
    with serve(args, env, timeout):
        seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "how": "circhat app until HTTP 200",
        "baseline_s": round(baseline, 2),
    }


@contextlib.contextmanager
def serve(args: list[str], env: dict | None = None, timeout: float = 180.0) -> Iterator[str]:
    """`circhat app ARGS` on a free localhost port until it answers; yields its URL."""
    port = free_port()
    command = [sys.executable, "-m", "ui.cli", "-q", "app", "--port", str(port), *args]
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", **(env or {})}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        output = lambda: proc.stderr.read().decode()[-800:]  # noqa: E731
        wait_until_answered(url + "/", proc, "circhat app", output, timeout, interval=0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
