"""Every error the API answers: JSON `{"error": {"code", "message"}}` with a stable code and a
one-line message, never a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

# the stable codes a client may branch on, by HTTP status where several share one
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    503: "not_ready",
}


class ApiError(Exception):
    """An answer other than success: HTTP status, stable code, one-line message."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def error_response(status: int, code: str, message: str, headers: dict | None = None):
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def _validation_message(err: RequestValidationError) -> str:
    first = err.errors()[0] if err.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    return f"{where or 'request'}: {first.get('msg', 'invalid')}"


def install(app: FastAPI) -> None:
    """The handlers that turn every failure into the one JSON shape."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, err: ApiError):
        return error_response(err.status, err.code, err.message, err.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, err: StarletteHTTPException):
        code = HTTP_CODES.get(err.status_code, "http_error")
        message = err.detail if isinstance(err.detail, str) else code.replace("_", " ")
        return error_response(err.status_code, code, message, getattr(err, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, err: RequestValidationError):
        return error_response(422, "invalid_request", _validation_message(err))

    @app.exception_handler(ConnectionError)
    async def unreachable(_: Request, err: ConnectionError):
        log.error("the session store cannot be reached: %s", err)
        return error_response(
            503, "store_unreachable", f"the session store cannot be reached: {err}"
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, err: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal", f"the server failed ({type(err).__name__})")
