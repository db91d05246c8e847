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


class Shown(NamedTuple):
    """The page after an event, as the API returns it (the session state stays on the server)."""

    chat: list[dict]
    gallery: list[dict]
    caption: str
    details: str
    reference: dict | None
    category: str
    composer: str
    message: str


def connect(url: str) -> Client:
    return Client(url, verbose=False, download_files=False, analytics_enabled=False)


def turn(client: Client, api: str, *args) -> Shown:
    return Shown(*client.predict(*args, api_name=api))


def lines(shown: Shown) -> list[str]:
    """The chat's texts (the API gives each message's content as a list of parts)."""
    out = []
    for message in shown.chat:
        content = message["content"]
        parts = content if isinstance(content, list) else [{"text": content}]
        out.append(" ".join(p.get("text", "") for p in parts))
    return out


def captions(shown: Shown) -> list[str]:
    return [item["caption"] for item in shown.gallery]


def test_two_sessions_at_once_never_see_each_other(app_url):
    alice, bob = connect(app_url), connect(app_url)
    a1 = turn(alice, "/send", "a red dress", "any", "sum")
    b1 = turn(bob, "/send", "a blue bag", "any", "sum")
    a2 = turn(alice, "/send", "with stripes", a1.category, "text-only")
    b2 = turn(bob, "/undo")

    assert lines(a2)[0::2] == ["a red dress", "with stripes"]
    assert not any("bag" in line for line in lines(a2))
    assert all("color=red" in c and "category=dress" in c for c in captions(a2))
    assert a2.composer == "text-only"
    assert len(lines(b1)) == 2 and "“blue, bag”" in lines(b1)[1]
    assert lines(b2)[2:] == ["Undo", "Undone: back to the results before your last turn."]
    assert b2.gallery == [] and b2.composer == "sum"  # bob never switched models
    a3 = turn(alice, "/reset")
    b3 = turn(bob, "/send", "a blue bag", "any", "sum")
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
    one = turn(client, "/send", f"a {first} {category}", "any", "sum")
    two = turn(client, "/send", f"same but in {second}", one.category, "sum")
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
            f"color={first}" in c and f"category={category}" in c for c in captions(one)
        )
        assert captions(two) and all(
            f"color={second}" in c and f"category={category}" in c for c in captions(two)
        )
        assert lines(three)[0::2] == [f"a {first} {category}", f"same but in {second}", "Undo"]
        assert captions(three) == captions(one)
