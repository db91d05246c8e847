"""Sessions through the served app's API (gradio_client on localhost): separate and concurrent."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait
from typing import NamedTuple

import pytest
from gradio_client import Client

# gradio's queue uses pandas options that pandas 3 deprecates: noise, not ours
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*no_silent_downcasting", "ignore:The copy keyword is deprecated"
)


FILTERS = 3  # fmnist-color's main attributes: category, colour, pattern


class Shown(NamedTuple):
    """The page after an event, as the API returns it (the session state stays on the server)."""

    chat: list[dict]
    gallery: list[dict]
    caption: str
    details: str
    reference: dict | None
    filters: list[dict]  # one dropdown update per main attribute
    composer: str
    message: str
    chips: list[dict]

    @property
    def category(self) -> str:
        return self.filters[0]["value"]


def connect(url: str) -> Client:
    return Client(url, verbose=False, download_files=False, analytics_enabled=False)


def turn(client: Client, api: str, *args) -> Shown:
    out = client.predict(*args, api_name=api)
    head, filters, tail = out[:5], out[5 : 5 + FILTERS], out[5 + FILTERS :]
    return Shown(*head, list(filters), tail[0], tail[1], list(tail[2:]))


def lines(shown: Shown) -> list[str]:
    """The chat's texts (the API gives each message's content as a list of parts)."""
    out = []
    for message in shown.chat:
        content = message["content"]
        parts = content if isinstance(content, list) else [{"text": content}]
        out.append(" ".join(p.get("text", "") for p in parts))
    return out


def captions(shown: Shown) -> list[str]:
    """The product cards' texts: 'red striped dress\nmatches red, dress and striped'."""
    return [item["caption"] for item in shown.gallery]


def test_the_send_endpoint_needs_only_the_message(app_url):
    shown = turn(connect(app_url), "/send", "a red dress")
    assert captions(shown) and all(c.startswith("red ") and "dress" in c for c in captions(shown))
    assert shown.category == "dress" and shown.composer == "sum"
    assert all(item["image"]["url"].startswith(app_url) for item in shown.gallery)  # files


def test_two_sessions_at_once_never_see_each_other(app_url):
    alice, bob = connect(app_url), connect(app_url)
    a1 = turn(alice, "/send", "a red dress", "sum")
    assert a1.category == "dress"
    b1 = turn(bob, "/send", "a blue bag", "sum")
    a2 = turn(alice, "/send", "with stripes", "text-only")
    b2 = turn(bob, "/undo")

    assert lines(a2)[0::2] == ["a red dress", "with stripes"]
    assert not any("bag" in line for line in lines(a2))
    assert all("matches red, dress and striped" in c for c in captions(a2))
    assert a2.composer == "text-only"
    assert len(lines(b1)) == 2 and lines(b1)[1].startswith("Searching for blue bag:")
    assert lines(b2)[2:] == ["Undo", "Undone: back to the results before your last turn."]
    assert b2.gallery == [] and b2.composer == "sum"  # bob never switched models
    a3 = turn(alice, "/reset")
    b3 = turn(bob, "/send", "a blue bag", "sum")
    assert a3.chat == [] and a3.gallery == []
    assert captions(b3) == captions(b1)  # bob's undo restored his state, untouched by alice's


def plans(catalogue, sessions: int) -> list[tuple[str, str, str]]:
    """(category, first colour, second colour) per session, each with items to find."""
    count: dict[tuple[str, str], int] = {}
    for item in catalogue.items:
        key = (item.attributes["category"], item.attributes["color"])
        count[key] = count.get(key, 0) + 1
    found = sorted(key for key, n in count.items() if n >= 2)
    out = []
    for i in range(sessions):
        category, first = found[(i * 7) % len(found)]
        second = next(c for (cat, c) in found[::-1] if cat == category and c != first)
        out.append((category, first, second))
    return out


def converse(url: str, category: str, first: str, second: str) -> tuple[Shown, Shown, Shown]:
    client = connect(url)
    one = turn(client, "/send", f"a {first} {category}", "sum")
    two = turn(client, "/send", f"same but in {second}", "sum")
    three = turn(client, "/undo")
    return one, two, three


@pytest.mark.slow
def test_twenty_concurrent_sessions_get_their_own_results(app_url, app_agent):
    _, catalogue = app_agent
    todo = plans(catalogue, 20)
    with ThreadPoolExecutor(len(todo)) as pool:
        futures = [pool.submit(converse, app_url, *plan) for plan in todo]
        done, pending = wait(futures, timeout=120)
    assert not pending, f"{len(pending)} of 20 sessions did not finish in 120 s"
    for (category, first, second), future in zip(todo, futures):
        one, two, three = future.result()
        assert one.caption == f"{first}, {category}" and one.category == category
        assert captions(one) and all(
            c.startswith(first) and c.split("\n")[0].endswith(category) for c in captions(one)
        )
        assert captions(two) and all(
            c.startswith(second) and c.split("\n")[0].endswith(category) for c in captions(two)
        )
        assert lines(three)[0::2] == [f"a {first} {category}", f"same but in {second}", "Undo"]
        assert captions(three) == captions(one)


def test_the_app_and_the_cli_serve_the_same_number_of_turns_at_once():
    import inspect

    from ui import CONCURRENCY
    from ui.app import build_app
    from ui.cli import build_parser

    assert inspect.signature(build_app).parameters["concurrency"].default == CONCURRENCY
    assert build_parser().parse_args(["app"]).concurrency == CONCURRENCY
