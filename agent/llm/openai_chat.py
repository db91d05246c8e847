"""An OpenAI-compatible endpoint through LangChain's ChatOpenAI, with a total deadline that
really ends the call.

httpx's own timeouts bound each connect and each read, not the whole request: an endpoint
that drips one byte a second never trips a 10 s read timeout. Here every socket operation
of a request waits at most until the request's deadline, and past it raises httpx's
timeout error in the caller's thread, which closes the connection. No thread is started.
"""

from __future__ import annotations

import os
import threading
import time

import httpcore
import httpx

CONNECT_S = 3.0  # connecting should be quick; the rest of the time is for the answer
_deadline = threading.local()  # the current request's deadline, in this thread


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    """The timeout of one socket operation, cut to what is left of the request's time."""
    at = getattr(_deadline, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error(f"no answer within the total deadline of {_deadline.total:g} s")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        inner = self._inner.start_tls(
            ssl_context, server_hostname, _bounded(timeout, httpcore.ConnectTimeout)
        )
        return _Stream(inner)

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


class _Backend(httpcore.SyncBackend):
    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        timeout = _bounded(timeout, httpcore.ConnectTimeout)
        return _Stream(super().connect_tcp(host, port, timeout, local_address, socket_options))


class _ClearOnClose(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream):
        self._inner = inner

    def __iter__(self):
        yield from self._inner

    def close(self) -> None:
        _deadline.at = None
        self._inner.close()


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport whose every request, body included, ends by `total_s` seconds."""

    def __init__(self, total_s: float):
        super().__init__(retries=0)
        self.total_s = total_s
        self._pool = httpcore.ConnectionPool(network_backend=_Backend(), retries=0)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _deadline.at, _deadline.total = time.monotonic() + self.total_s, self.total_s
        try:
            response = super().handle_request(request)
        except BaseException:
            _deadline.at = None
            raise
        response.stream = _ClearOnClose(response.stream)
        return response


def openai_chat(timeout_s: float, max_tokens: int = 160):
    """ChatOpenAI for the endpoint in the environment (CIRCHAT_LLM_BASE_URL, CIRCHAT_LLM_MODEL,
    CIRCHAT_LLM_API_KEY): connect and read timeouts, a total deadline, no retries."""
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        raise ValueError("--rewriter openai needs `pip install langchain-openai`") from None
    timeout = httpx.Timeout(timeout_s, connect=min(CONNECT_S, timeout_s))
    client = httpx.Client(transport=DeadlineTransport(timeout_s), timeout=timeout)
    return ChatOpenAI(
        model=os.environ.get("CIRCHAT_LLM_MODEL", "gpt-4o-mini"),
        base_url=os.environ.get("CIRCHAT_LLM_BASE_URL"),
        api_key=os.environ.get("CIRCHAT_LLM_API_KEY", "not-needed"),
        timeout=timeout,
        max_retries=0,
        temperature=0,
        max_tokens=max_tokens,
        http_client=client,
    )
