"""An OpenAI-compatible endpoint through LangChain's ChatOpenAI, with a total deadline that
really ends the call.

An HTTP client's own timeouts bound each connect and each read, not the whole request: an
endpoint that drips one byte a second never trips a 10 s read timeout. Here every socket
operation of a request waits at most until the request's deadline, and past it raises the
client library's timeout error in the caller's thread, which closes the connection. No
thread is started.

The `openai` package has moved its HTTP client between releases (httpx with httpcore, then
httpx2 with httpcore2, the same API under new names). The transport is built for the
library the installed `openai` uses, found from its own client class, and ChatOpenAI gets
its timeout as a plain number: no HTTP library's objects cross a library boundary.
"""

from __future__ import annotations

import functools
import importlib
import os
import threading
import time
from types import ModuleType

CONNECT_S = 3.0  # connecting should be quick; the rest of the time is for the answer
_deadline = threading.local()  # the current request's deadline, in this thread


class ClientUnavailable(RuntimeError):
    """The OpenAI-compatible client cannot be built with the installed packages."""


def _bounded(timeout: float | None, error: type[Exception], cap: float | None = None):
    """The timeout of one socket operation, cut to `cap` and to what is left of the request's
    time."""
    if cap is not None:
        timeout = cap if timeout is None else min(timeout, cap)
    at = getattr(_deadline, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error(f"no answer within the total deadline of {_deadline.total:g} s")
    return left if timeout is None else min(timeout, left)


def http_library() -> tuple[ModuleType, ModuleType]:
    """(the HTTP client module, its transport core module) that the installed `openai` builds
    its clients on: (httpx, httpcore) or (httpx2, httpcore2)."""
    try:
        import openai
    except ImportError:
        raise ClientUnavailable("it needs `pip install langchain-openai`") from None
    client_base = next(
        (c for c in openai.DefaultHttpxClient.__mro__[1:] if c.__name__ == "Client"), None
    )
    if client_base is None:
        raise ClientUnavailable(
            f"openai {openai.__version__}: its HTTP client class is not one circhat knows"
        )
    http = importlib.import_module(client_base.__module__.split(".")[0])
    core = importlib.import_module(type(http.HTTPTransport()._pool).__module__.split(".")[0])
    return http, core


@functools.cache
def deadline_transport_class(http: ModuleType, core: ModuleType) -> type:
    """An `http.HTTPTransport` whose every request, body included, ends by a total deadline."""

    class Stream(core.NetworkStream):
        def __init__(self, inner):
            self._inner = inner

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return self._inner.read(max_bytes, _bounded(timeout, core.ReadTimeout))

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self._inner.write(buffer, _bounded(timeout, core.WriteTimeout))

        def close(self) -> None:
            self._inner.close()

        def start_tls(self, ssl_context, server_hostname=None, timeout=None):
            timeout = _bounded(timeout, core.ConnectTimeout, CONNECT_S)
            return Stream(self._inner.start_tls(ssl_context, server_hostname, timeout))

        def get_extra_info(self, info: str):
            return self._inner.get_extra_info(info)

    class Backend(core.SyncBackend):
        def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
            timeout = _bounded(timeout, core.ConnectTimeout, CONNECT_S)
            return Stream(super().connect_tcp(host, port, timeout, local_address, socket_options))

    class ClearOnClose(http.SyncByteStream):
        def __init__(self, inner):
            self._inner = inner

        def __iter__(self):
            yield from self._inner

        def close(self) -> None:
            _deadline.at = None
            self._inner.close()

    class DeadlineTransport(http.HTTPTransport):
        def __init__(self, total_s: float):
            super().__init__(retries=0)
            self.total_s = total_s
            self._pool = core.ConnectionPool(network_backend=Backend(), retries=0)

        def handle_request(self, request):
            _deadline.at, _deadline.total = time.monotonic() + self.total_s, self.total_s
            try:
                response = super().handle_request(request)
            except BaseException:
                _deadline.at = None
                raise
            response.stream = ClearOnClose(response.stream)
            return response

    return DeadlineTransport


def openai_chat(timeout_s: float, max_tokens: int = 160):
    """ChatOpenAI for the endpoint in the environment (CIRCHAT_LLM_BASE_URL, CIRCHAT_LLM_MODEL,
    CIRCHAT_LLM_API_KEY): connects within 3 s, a total deadline of `timeout_s`, no retries.
    Raises ClientUnavailable (one line) where the installed packages cannot build it."""
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        raise ClientUnavailable("it needs `pip install langchain-openai`") from None
    http, core = http_library()
    transport = deadline_transport_class(http, core)(timeout_s)
    try:
        return ChatOpenAI(
            model=os.environ.get("CIRCHAT_LLM_MODEL", "gpt-4o-mini"),
            base_url=os.environ.get("CIRCHAT_LLM_BASE_URL"),
            api_key=os.environ.get("CIRCHAT_LLM_API_KEY", "not-needed"),
            timeout=float(timeout_s),
            max_retries=0,
            temperature=0,
            max_tokens=max_tokens,
            http_client=http.Client(transport=transport, timeout=float(timeout_s)),
        )
    except Exception as error:  # a client library that changed its API again
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ClientUnavailable(f"the OpenAI-compatible client cannot be built: {first}") from None
