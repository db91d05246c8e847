"""What closes the API: keys (hashed at rest), a per-key rate limit, and bounds on what a
client may send (message length, request and image bytes, image pixels)."""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from retrieval.catalogues.images import decode_image
from ui.api.errors import ApiError, error_body

MAX_CALLERS = 10_000  # rate buckets kept before the idle ones are forgotten
KEY_PREFIX = "sha256:"  # a keys file line: sha256:<hex digest of the key> [a name]


class Limits(BaseModel):
    """The bounds on a client's requests (`circhat serve` flags)."""

    max_message_chars: int = 2000
    max_image_bytes: int = 10_000_000
    max_image_pixels: int = 40_000_000
    max_body_bytes: int = 12_000_000  # the whole request: an image and its form fields
    rate_per_minute: float = 600.0  # turns and lookups per key (or client address); 0: off
    rate_burst: int = 100


def hash_key(key: str) -> str:
    """A keys file line for `key`: only its digest is stored."""
    return KEY_PREFIX + hashlib.sha256(key.encode()).hexdigest()


class ApiKeys:
    """The accepted keys, read from a file of `sha256:<hex>` lines (blank lines and `#`
    comments skipped); a key is compared by its digest, in constant time."""

    def __init__(self, digests: dict[str, str]):
        self.digests = digests  # digest -> name

    @classmethod
    def read(cls, path: str | Path) -> ApiKeys:
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"--api-keys {path}: no such file (one sha256:<hex> line a key)")
        digests = {}
        for number, line in enumerate(path.read_text().splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            digest, _, name = line.partition(" ")
            hexpart = digest.removeprefix(KEY_PREFIX)
            if not digest.startswith(KEY_PREFIX) or len(hexpart) != 64:
                raise ValueError(
                    f"--api-keys {path}, line {number}: not a sha256:<64 hex> digest "
                    "(make one with `circhat serve --hash-key KEY`)"
                )
            digests[hexpart.lower()] = name.strip() or f"key{number}"
        if not digests:
            raise ValueError(f"--api-keys {path}: no keys in the file")
        return cls(digests)

    def name_of(self, key: str | None) -> str | None:
        """The key's name, or None if it is not one of the accepted keys."""
        if not key:
            return None
        digest = hashlib.sha256(key.encode()).hexdigest()
        found = None
        for known, name in self.digests.items():  # every digest compared: no timing hint
            if hmac.compare_digest(known, digest):
                found = name
        return found


def key_of(headers) -> str | None:
    """The key a request carries: `X-API-Key: KEY` or `Authorization: Bearer KEY`."""
    if headers.get("x-api-key"):
        return headers["x-api-key"]
    scheme, _, value = (headers.get("authorization") or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


class RateLimiter:
    """A token bucket per caller: `burst` requests at once, refilled at `per_minute`. Kept in
    each worker's memory, so with N workers a caller may reach N times the rate."""

    def __init__(self, per_minute: float, burst: int):
        self.rate, self.burst = per_minute / 60.0, burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, caller: str) -> None:
        """Take one token for `caller`, or raise 429 with the seconds until one is back."""
        if not self.rate:
            return
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.get(caller, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            if tokens < 1:
                self._buckets[caller] = (tokens, now)
                wait = math.ceil((1 - tokens) / self.rate)
                raise ApiError(
                    429,
                    "rate_limited",
                    f"too many requests: try again in {wait} s",
                    {"Retry-After": str(wait)},
                )
            self._buckets[caller] = (tokens - 1, now)
            if len(self._buckets) > MAX_CALLERS:  # forget callers whose bucket is full again
                full = (self.burst - 1) / self.rate
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full}


def read_upload(data: bytes, limits: Limits, name: str = "the upload"):
    """(H, W, 3) uint8 of an uploaded picture within the limits; 413 or 422 otherwise."""
    if len(data) > limits.max_image_bytes:
        raise ApiError(
            413,
            "image_too_large",
            f"{name} is {len(data):,} bytes; the limit is {limits.max_image_bytes:,}",
        )
    _check_pixels(data, limits, name)
    try:
        return decode_image(data, name)
    except ValueError as err:
        raise ApiError(422, "bad_image", str(err)) from None


def _check_pixels(data: bytes, limits: Limits, name: str) -> None:
    """Refuse a picture above the pixel limit from its header, before decoding it."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
    except Exception:  # not an image: decode_image says so in its own words
        return
    if width * height > limits.max_image_pixels:
        raise ApiError(
            413,
            "image_too_large",
            f"{name} is {width}x{height} pixels; the limit is {limits.max_image_pixels:,}",
        )


@dataclass
class BodyLimit:
    """ASGI middleware: a request body above `max_bytes` is answered 413 before it is read
    whole (by its Content-Length, or as it streams in without one)."""

    app: object
    max_bytes: int

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"").decode()
        if length.isdigit() and int(length) > self.max_bytes:
            return await _too_large(send, self.max_bytes)
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise ApiError(413, "too_large", _too_large_message(self.max_bytes))
            return message

        return await self.app(scope, limited_receive, send)


def _too_large_message(max_bytes: int) -> str:
    return f"the request is above {max_bytes:,} bytes: send a smaller image"


async def _too_large(send, max_bytes: int) -> None:
    import json

    body = json.dumps(error_body("too_large", _too_large_message(max_bytes))).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})
