"""The storefront demo page (/demo/) in a real Chromium, over the API served by uvicorn on
localhost: a search, a chip, "more like this", other colours and an upload, all through /v1."""

from __future__ import annotations

import threading
import time

import pytest
from api_fixtures import png_bytes

from eval.bench.app import free_port
from ui.api.app import ServeConfig, create_app


@pytest.fixture
def demo_url(app_agent, tmp_path):
    import uvicorn

    config = ServeConfig(store=f"sqlite:{tmp_path / 's.db'}", demo=True)
    app = create_app(config, app_agent[0])
    server = uvicorn.Server(uvicorn.Config(app, port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(10)


def cards(page) -> list[str]:
    return page.locator("#results .card").evaluate_all("cards => cards.map(c => c.dataset.id)")


def act(page, do) -> dict:
    """Do something on the page; the answer of the turn it sent (after it is shown)."""
    with page.expect_response(lambda r: r.url.endswith("/turns")) as answer:
        do()
    out = answer.value.json()
    assert answer.value.status == 200, out
    page.wait_for_function(
        "reply => document.querySelector('#reply').textContent === reply",
        arg=out["question"] or out["reply"],
    )
    return out


def test_the_storefront_demo_uses_the_api(browser, demo_url, app_agent, tmp_path):
    calls = []
    page = browser.new_page()
    page.set_default_timeout(30_000)
    page.on("request", lambda r: calls.append(r.url.removeprefix(demo_url)))
    page.goto(demo_url + "/demo/")
    page.fill("#text", "a dress")
    first = act(page, lambda: page.click("#search button[type=submit]"))
    assert cards(page) == [r["id"] for r in first["results"]] and len(first["results"]) == 10
    page.locator("#results img").first.wait_for()
    page.wait_for_function("() => document.querySelector('#results img').naturalWidth > 0")

    chip = first["chips"][0]["value"]
    chosen = act(page, lambda: page.locator("#chips button").first.click())
    assert chip in {c["value"] for c in chosen["constraints"]}
    more = act(page, lambda: page.locator("#results .card .more").nth(1).click())
    assert cards(page) == [r["id"] for r in more["results"]]
    colours = act(page, lambda: page.locator("#results .card .colours").first.click())
    assert "other colours" in colours["reply"]

    upload = tmp_path / "garment.png"
    upload.write_bytes(png_bytes(app_agent[1].render([7])[0]))
    uploaded = act(page, lambda: page.set_input_files("#upload", str(upload)))
    assert uploaded["turns"] == 5 and cards(page) == [r["id"] for r in uploaded["results"]]
    page.close()
    api_calls = [c for c in calls if c.startswith("/v1/")]
    assert sum(c.endswith("/turns") for c in api_calls) == 5
    assert sum(c == "/v1/sessions" for c in api_calls) == 1
    assert all(c.startswith(("/demo/", "/v1/")) for c in calls), calls
