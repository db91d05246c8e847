"""What closes the API: keys hashed at rest, CORS, bounds on messages and images, the rate
limit, and no route that reads a path a client gives."""

from __future__ import annotations

import io

import numpy as np
import pytest
from api_fixtures import make_client, png_bytes
from PIL import Image

from ui.api.limits import ApiKeys, Limits, hash_key


def test_keys_file_holds_digests_and_requests_need_a_key(app_agent, tmp_path):
    keys = tmp_path / "keys"
    keys.write_text(f"# shop keys\n{hash_key('s3cret-one')} storefront\n{hash_key('two')}\n")
    assert "s3cret-one" not in keys.read_text()
    assert ApiKeys.read(keys).name_of("s3cret-one") == "storefront"
    with make_client(app_agent, tmp_path, api_keys=str(keys)) as client:
        for headers in ({}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer wrong"}):
            answer = client.post("/v1/sessions", headers=headers)
            assert answer.status_code == 401, headers
            assert answer.json()["error"]["code"] == "unauthorized"
        assert client.get("/v1/catalogue").status_code == 401
        assert client.post("/v1/sessions", headers={"X-API-Key": "s3cret-one"}).status_code == 201
        ok = client.get("/v1/catalogue", headers={"Authorization": "Bearer two"})
        assert ok.status_code == 200
        assert ok.json()["size"] == 1000
        item = app_agent[1].items[0].id
        assert client.get(f"/v1/items/{item}/image").status_code == 200  # <img> sends no key
        assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("line", ["plain-key", "sha256:abc", "md5:" + "0" * 64])
def test_a_keys_file_with_a_plain_key_is_refused(tmp_path, line):
    keys = tmp_path / "keys"
    keys.write_text(line + "\n")
    with pytest.raises(ValueError, match="line 1: not a sha256"):
        ApiKeys.read(keys)


def test_cors_answers_allowed_origins_only(app_agent, tmp_path):
    allowed = "https://shop.example"
    with make_client(app_agent, tmp_path, cors=[allowed]) as client:
        yes = client.get("/v1/catalogue", headers={"Origin": allowed})
        assert yes.headers["access-control-allow-origin"] == allowed
        no = client.get("/v1/catalogue", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in no.headers
        preflight = client.options(
            "/v1/sessions",
            headers={
                "Origin": allowed,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "X-API-Key",
            },
        )
        assert preflight.status_code == 200
        assert "x-api-key" in preflight.headers["access-control-allow-headers"].lower()


def test_message_and_image_bounds(app_agent, tmp_path):
    limits = Limits(max_message_chars=50, max_image_bytes=200_000, max_image_pixels=1_000_000)
    with make_client(app_agent, tmp_path, limits=limits) as client:
        session = client.post("/v1/sessions").json()["session_id"]
        url = f"/v1/sessions/{session}/turns"
        long = client.post(url, json={"text": "red " * 20})
        assert (long.status_code, long.json()["error"]["code"]) == (422, "message_too_long")

        noisy = np.random.default_rng(0).integers(0, 255, (400, 400, 3), dtype=np.uint8)
        heavy = client.post(url, files={"image": ("noise.png", png_bytes(noisy), "image/png")})
        assert (heavy.status_code, heavy.json()["error"]["code"]) == (413, "image_too_large")

        wide = io.BytesIO()
        Image.new("RGB", (2000, 1000)).save(wide, "PNG")  # small file, 2 million pixels
        big = client.post(url, files={"image": ("wide.png", wide.getvalue(), "image/png")})
        assert (big.status_code, big.json()["error"]["code"]) == (413, "image_too_large")
        assert "2000x1000" in big.json()["error"]["message"]

        junk = client.post(url, files={"image": ("x.png", b"not a picture", "image/png")})
        assert (junk.status_code, junk.json()["error"]["code"]) == (422, "bad_image")
        assert client.get(f"/v1/sessions/{session}").json()["turns"] == []  # nothing applied


def test_a_50_mb_upload_is_refused_before_it_is_read(client, session):
    body = b"\0" * (50 * 1024 * 1024)
    answer = client.post(
        f"/v1/sessions/{session}/turns",
        files={"image": ("huge.png", body, "image/png")},
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (413, "too_large")


def test_the_rate_limit_answers_429_with_retry_after(app_agent, tmp_path):
    limits = Limits(rate_per_minute=6, rate_burst=3)
    with make_client(app_agent, tmp_path, limits=limits) as client:
        codes = [client.get("/v1/catalogue").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = client.get("/v1/catalogue")
        assert refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 10


@pytest.mark.parametrize(
    "item",
    [
        "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "%2Fetc%2Fpasswd",
        "..%5C..%5Cwindows%5Cwin.ini",
        "%2E%2E",
        "file:%2F%2F%2Fetc%2Fpasswd",
    ],
)
def test_no_route_reads_a_path_a_client_gives(client, item):
    for route in (f"/v1/items/{item}/image", f"/v1/items/{item}", f"/v1/items/{item}/similar"):
        answer = client.get(route)
        assert answer.status_code == 404, route
        assert "root:" not in answer.text
        assert answer.json()["error"]["code"] in ("unknown_item", "not_found")


def test_a_thumbnail_file_name_is_no_item(client, app_agent):
    _, catalogue = app_agent
    item = catalogue.items[0].id
    stored = client.app.state.ctx.view.thumbnails.path(item)  # the file the route would send
    for name in (stored, stored.rsplit("/", 1)[-1]):
        assert client.get("/v1/items/x/image", params={"path": name}).status_code == 404
        assert client.get(f"/v1/items/{name.replace('/', '%2F')}/image").status_code == 404


def test_the_rate_limiter_forgets_idle_callers_only(monkeypatch):
    from ui.api import limits

    monkeypatch.setattr(limits, "MAX_CALLERS", 3)
    limiter = limits.RateLimiter(per_minute=60, burst=2)
    for caller in ("a", "b", "c"):
        limiter.check(caller)
    limiter.check("a")  # a: its burst spent
    with pytest.raises(limits.ApiError):
        limiter.check("a")
    limiter._buckets["b"] = (1.0, limiter._buckets["b"][1] - 5)  # b: idle long enough
    limiter.check("d")  # a fourth caller: b is forgotten, a (still limited) is not
    assert set(limiter._buckets) == {"a", "c", "d"}
    with pytest.raises(limits.ApiError):
        limiter.check("a")
