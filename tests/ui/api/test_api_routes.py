"""The API's endpoints over the 1,000-item gallery: every turn action, the catalogue and its
items, health, and the one error shape."""

from __future__ import annotations

import io

import numpy as np
from api_fixtures import png_bytes
from PIL import Image

from ui.thumbnails import display_image


def turn(client, session: str, **body):
    answer = client.post(f"/v1/sessions/{session}/turns", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def attrs(answer: dict, name: str) -> set[str]:
    return {r["attributes"][name] for r in answer["results"]}


def test_a_dialogue_of_words_picks_chips_undo_and_reset(client, session):
    first = turn(client, session, text="a red striped dress")
    assert first["new_search"] and first["turns"] == 1 and first["version"] == 2
    assert {(c["attribute"], c["value"]) for c in first["constraints"]} >= {
        ("color", "red"),
        ("category", "dress"),
    }
    assert attrs(first, "color") == {"red"} and attrs(first, "category") == {"dress"}
    assert [r["rank"] for r in first["results"]] == list(range(1, len(first["results"]) + 1))
    assert first["results"][0]["image_url"] == f"/v1/items/{first['results'][0]['id']}/image"
    assert first["reply"] and first["timings"]["total"] > 0 and first["timings"]["api_total"] > 0

    picked = turn(client, session, pick=2, text="in blue")
    assert not picked["new_search"] and attrs(picked, "color") == {"blue"}
    dialogue = client.get(f"/v1/sessions/{session}").json()
    assert dialogue["turns"][-1]["action"] == "select"
    assert [t["user_text"] for t in dialogue["turns"]] == ["a red striped dress", "in blue"]

    chips = picked["chips"] or turn(client, session, text="show me coats")["chips"]
    assert chips, "the agent offers chips after a search"
    before = client.get(f"/v1/sessions/{session}").json()
    chosen = turn(client, session, chip=1)
    last = client.get(f"/v1/sessions/{session}").json()["turns"][-1]
    assert last["action"] == "choose"
    assert (chips[0]["attribute"], chips[0]["value"]) in {
        (c["attribute"], c["value"]) for c in chosen["constraints"]
    }

    undone = turn(client, session, undo=True)
    assert undone["turns"] == len(before["turns"]) and undone["reply"].startswith("Undone")
    assert client.get(f"/v1/sessions/{session}").json()["turns"] == before["turns"]

    reset = turn(client, session, reset=True)
    assert reset["turns"] == 0 and reset["results"] == [] and reset["constraints"] == []


def test_none_of_these_and_other_colours(client, session):
    first = turn(client, session, text="a blue shirt")
    shown = {r["id"] for r in first["results"]}
    others = turn(client, session, none_of_these=True)
    assert others["results"] and not shown & {r["id"] for r in others["results"]}

    item = others["results"][0]
    colours = turn(client, session, other_colours=1)
    assert colours["results"] and item["id"] not in {r["id"] for r in colours["results"]}
    assert any(r["attributes"]["color"] != item["attributes"]["color"] for r in colours["results"])
    assert client.get(f"/v1/sessions/{session}").json()["turns"][-1]["action"] == "other_colours"


def test_pick_by_item_id_and_an_uploaded_picture(client, session, app_agent):
    _, catalogue = app_agent
    item = catalogue.items[5]
    started = turn(client, session, pick=item.id)  # any catalogue item, not only one shown
    assert started["results"] and started["turns"] == 1

    picture = png_bytes(catalogue.render([5])[0])
    answer = client.post(
        f"/v1/sessions/{session}/turns",
        files={"image": ("garment.png", picture, "image/png")},
        data={"text": ""},
    )
    assert answer.status_code == 200, answer.text
    uploaded = answer.json()
    same_kind = attrs(uploaded, "category")
    assert item.attributes["category"] in same_kind
    assert client.get(f"/v1/sessions/{session}").json()["turns"][-1]["action"] == "upload"

    ranked = client.post(f"/v1/sessions/{session}/turns", data={"pick": "1", "undo": "false"})
    assert ranked.status_code == 200 and ranked.json()["turns"] == 3


def test_catalogue_items_images_and_similar(client, app_agent):
    _, catalogue = app_agent
    summary = client.get("/v1/catalogue").json()
    assert summary["size"] == 1000 and summary["kind"] == "category"
    for facet in summary["attributes"]:
        counted = sum(v["count"] for v in facet["values"])
        assert counted == 1000, facet["name"]
    item = catalogue.items[3]
    out = client.get(f"/v1/items/{item.id}").json()
    assert out["attributes"] == item.attributes and out["image_url"].endswith("/image")

    image = client.get(out["image_url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    shown = display_image(catalogue.load([3])[0].image)  # as the app shows it
    served = Image.open(io.BytesIO(image.content))
    assert served.size == shown.size and np.array_equal(np.asarray(served), np.asarray(shown))
    small = client.get(out["image_url"], params={"size": 32})
    assert Image.open(io.BytesIO(small.content)).size == (32, 32)
    assert client.get(out["image_url"], params={"size": 5000}).json()["error"]["code"] == "bad_size"

    similar = client.get(f"/v1/items/{item.id}/similar").json()
    assert similar["mode"] == "similar" and len(similar["results"]) == 10
    kinds = [r["attributes"]["category"] for r in similar["results"]]
    assert kinds.count(item.attributes["category"]) >= 5
    colours = client.get(f"/v1/items/{item.id}/similar", params={"mode": "colours"}).json()
    assert colours["results"] and colours["mode"] == "colours"


def test_errors_are_one_json_shape_with_stable_codes(client, session):
    cases = [
        (client.post("/v1/sessions/nope/turns", json={"text": "red"}), 404, "unknown_session"),
        (client.get("/v1/sessions/nope"), 404, "unknown_session"),
        (client.delete("/v1/sessions/nope"), 404, "unknown_session"),
        (client.get("/v1/items/no-such-item"), 404, "unknown_item"),
        (client.get("/v1/items/no-such-item/similar"), 404, "unknown_item"),
        (client.post(f"/v1/sessions/{session}/turns", json={"pick": 3}), 422, "no_such_result"),
        (client.post(f"/v1/sessions/{session}/turns", json={"chip": 1}), 422, "no_such_chip"),
        (client.post(f"/v1/sessions/{session}/turns", json={}), 422, "turn_refused"),
        (client.post(f"/v1/sessions/{session}/turns", json={"txt": "x"}), 422, "invalid_request"),
        (
            client.post(
                f"/v1/sessions/{session}/turns",
                content=b"{oops",
                headers={"content-type": "application/json"},
            ),
            422,
            "invalid_request",
        ),
        (client.put("/v1/sessions"), 405, "method_not_allowed"),
        (client.get("/v1/nothing-here"), 404, "not_found"),
    ]
    for answer, status, code in cases:
        body = answer.json()
        assert (answer.status_code, body["error"]["code"]) == (status, code), answer.text
        assert "Traceback" not in body["error"]["message"] and "\n" not in body["error"]["message"]
    assert client.delete(f"/v1/sessions/{session}").status_code == 204
    assert client.get(f"/v1/sessions/{session}").status_code == 404


def test_health_openapi_and_docs(client):
    assert client.get("/healthz").json() == {"status": "ok", "detail": ""}
    assert client.get("/readyz").json()["status"] == "ready"
    spec = client.get("/v1/openapi.json").json()
    assert "/v1/sessions/{session_id}/turns" in spec["paths"]
    assert (
        "multipart/form-data"
        in spec["paths"]["/v1/sessions/{session_id}/turns"]["post"]["requestBody"]["content"]
    )
    assert "TurnAnswer" in spec["components"]["schemas"]
    assert client.get("/docs").status_code == 200


def test_turns_of_one_session_sent_at_once_never_interleave(client, session):
    from concurrent.futures import ThreadPoolExecutor

    turn(client, session, text="a dress")
    words = ["in blue", "in red", "in green", "in black", "with dots", "with stripes"]
    with ThreadPoolExecutor(len(words)) as pool:
        answers = list(
            pool.map(
                lambda w: client.post(f"/v1/sessions/{session}/turns", json={"text": w}), words
            )
        )
    done = [a.json() for a in answers if a.status_code == 200]
    busy = [a.json()["error"]["code"] for a in answers if a.status_code != 200]
    assert set(busy) <= {"session_busy"} and done
    dialogue = client.get(f"/v1/sessions/{session}").json()
    assert len(dialogue["turns"]) == 1 + len(done)  # each answered turn kept, none lost
    assert sorted(a["turns"] for a in done) == list(range(2, 2 + len(done)))
    assert dialogue["version"] == 2 + len(done)


def test_a_server_that_cannot_load_says_why_and_serves_nothing(tmp_path):
    from fastapi.testclient import TestClient

    from retrieval.catalogues import CatalogueRef
    from ui.api.app import ServeConfig, create_app

    config = ServeConfig(
        catalogue=CatalogueRef.parse(str(tmp_path / "no-shop")),
        store=f"sqlite:{tmp_path / 's.db'}",
    )
    with TestClient(create_app(config)) as client:  # the load runs (and fails) at start-up
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["error"]["code"] == "not_ready"
        assert "could not load its models" in ready.json()["error"]["message"]
        assert "no-shop" in ready.json()["error"]["message"]
        assert client.post("/v1/sessions").status_code == 503
