"""The app in a real browser: the system Chromium driven by Playwright against localhost."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

# gradio's queue uses pandas options that pandas 3 deprecates: noise, not ours
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*no_silent_downcasting", "ignore:The copy keyword is deprecated"
)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(app_url)
    for used in ("#message textarea", "#send", "#chat"):  # Gradio renders each kind when its
        page.locator(used).wait_for()  # code has loaded: under load the box may come first
    yield page
    context.close()


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def captions(page) -> list[str]:
    return page.locator("#results .caption-label").all_inner_texts()


def wait_for_chat(page, text: str) -> None:
    try:
        page.wait_for_function(
            "text => document.querySelector('#chat').innerText.includes(text)", arg=text
        )
    except Exception as error:  # the chat as it stood, to say what came instead
        chat = page.locator("#chat").inner_text()
        raise AssertionError(f"no {text!r} in the chat:\n{chat}") from error


def send(page, text: str) -> None:
    page.locator("#message textarea").fill(text)
    page.locator("#send").click()


def wait_for_gallery(page, count: int, unlike: list[str] | None = None) -> list[str]:
    """The captions once the gallery shows `count` images (and differs from `unlike`)."""
    page.wait_for_function(
        """([count, unlike]) => {
            const labels = [...document.querySelectorAll('#results .caption-label')];
            const now = labels.map(l => l.innerText);
            return document.querySelectorAll('#results img').length === count
                && (unlike === null || JSON.stringify(now) !== JSON.stringify(unlike));
        }""",
        arg=[count, unlike],
    )
    return captions(page)


# types and sends each message as a shopper would (input, then Send), one right after the
# other; returns the chat's text when the last was sent
SEND_ALL = """async (messages) => {
    const box = document.querySelector('#message textarea');
    for (const text of messages) {
        box.value = text;
        box.dispatchEvent(new Event('input', {bubbles: true}));
        await new Promise(r => setTimeout(r, 0));
        document.querySelector('#send').click();
    }
    return document.querySelector('#chat').innerText;
}"""


def chips(page) -> list[str]:
    """The labels of the suggestion chips shown."""
    return [
        b.inner_text().strip()
        for b in page.locator("#chips button").all()
        if b.is_visible() and b.inner_text().strip()
    ]


@pytest.mark.slow
def test_request_pick_refine_undo_reset_in_the_browser(page):
    send(page, "a dress")
    wait_for_chat(page, "Searching for dress")
    first = wait_for_gallery(page, 10)
    assert all(c.endswith("matches dress") for c in first) and "=" not in "".join(first)
    assert page.locator("#caption textarea").input_value() == "dress"
    assert "total" in page.locator("#details").inner_text()
    assert 3 <= len(chips(page)) <= 6  # suggestions for the next step
    shoot(page, "01-request")

    page.locator("#results .thumbnail-item").nth(1).click()
    wait_for_chat(page, "Picked " + first[1].split("\n")[0])
    page.locator("#reference img").wait_for()
    shoot(page, "02-picked")

    send(page, "with stripes")
    wait_for_chat(page, "I kept dress from before")
    refined = wait_for_gallery(page, 10, unlike=first)
    assert page.locator("#chat img").count() >= 1  # a small picture of the pick, no item id
    assert "[" not in page.locator("#chat").inner_text()
    assert all("striped" in c.split("\n")[0] and "dress" in c for c in refined)
    assert page.locator("#caption textarea").input_value() == "striped"
    shoot(page, "03-refined")

    page.locator("#results .thumbnail-item").nth(0).click()
    wait_for_chat(page, "Picked " + refined[0].split("\n")[0])
    page.locator("#other-colours").click()
    wait_for_chat(page, "Here is the same style in other colours")
    colours = wait_for_gallery(page, 10, unlike=refined)
    assert sum("dress" in c for c in colours) >= 8
    shoot(page, "03b-other-colours")
    page.locator("#undo").click()
    wait_for_chat(page, "Undone")
    assert wait_for_gallery(page, 10, unlike=colours) == refined

    page.locator("#undo").click()
    wait_for_chat(page, "Undone")
    assert wait_for_gallery(page, 10, unlike=refined) == first
    assert page.locator("#caption textarea").input_value() == "dress"
    shoot(page, "04-undo")

    page.locator("#reset").click()
    wait_for_gallery(page, 0)
    page.wait_for_function("!document.querySelector('#chat').innerText.includes('Undone')")
    assert page.locator("#caption textarea").input_value() == ""
    shoot(page, "05-reset")


@pytest.fixture(scope="module")
def shoe_shop_url(tmp_path_factory, tiny_encoder):
    """The app on a tiny photo catalogue of its own (shoes and bags, for men and women)."""
    from catalogue_fixtures import write_shoe_shop

    from agent.agent import Agent
    from eval.bench.app import free_port
    from retrieval.catalogues import FolderCatalogue
    from retrieval.indexing.gallery import Gallery
    from retrieval.indexing.local import build_index
    from ui.app import build_app, launch

    folder = write_shoe_shop(tmp_path_factory.mktemp("shoes"))
    catalogue = FolderCatalogue(folder)
    index = build_index(catalogue, tiny_encoder, progress=False)
    agent = Agent(Gallery.in_memory(tiny_encoder, index, catalogue=catalogue), "sum")
    demo = build_app(agent)
    launch(
        demo, server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True
    )
    yield demo.local_url.rstrip("/")
    demo.close()


@pytest.mark.slow
def test_chips_questions_and_product_cards_on_a_photo_catalogue(
    browser, shoe_shop_url, tmp_path_factory
):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(shoe_shop_url)
    page.locator("#message textarea").wait_for()

    send(page, "sneakers")  # Casual Shoes or Sports Shoes: asked, not guessed
    wait_for_chat(page, "do you mean Casual Shoes or Sports Shoes?")
    asked = wait_for_gallery(page, 10)
    assert all(c.startswith("Shop ") for c in asked)  # product cards carry the shop's names
    assert chips(page) == ["Casual Shoes", "Sports Shoes"]
    shoot(page, "11-photo-question")

    page.locator("#chips button", has_text="Sports Shoes").click()
    wait_for_chat(page, "Narrowed to sports shoes")
    answered = wait_for_gallery(page, 10, unlike=asked)
    assert all("Sports Shoes" in c.split("\n")[0] for c in answered)
    assert all(c.split("\n")[1].count(" · ") >= 2 for c in answered)  # its main values
    offered = chips(page)
    assert set(offered) >= {"Men", "Women"} or len(offered) >= 2
    shoot(page, "12-photo-answered")

    men = "Men" if "Men" in offered else offered[0]
    page.locator("#chips button", has_text=men).first.click()
    wait_for_chat(page, f"Narrowed to {men.lower()} sports shoes")
    narrowed = wait_for_gallery(page, 4, unlike=answered)
    assert all(" Sports Shoes " in c for c in narrowed)
    shoot(page, "13-photo-chip")

    photo = tmp_path_factory.mktemp("upload") / "blue-square.png"
    picture = Image.new("RGB", (96, 96), (250, 250, 250))
    picture.paste((30, 60, 200), (28, 28, 68, 68))  # the shop's Handbags are blue squares too
    picture.save(photo)
    with page.expect_file_chooser() as chooser:  # as a shopper picks a file
        page.locator("#upload").click()
    chooser.value.set_files(str(photo))
    wait_for_chat(page, "A new search from your photo: I let go of")
    wait_for_gallery(page, 10, unlike=narrowed)
    assert page.locator("#chat img").count() >= 1  # the upload, small, in the shopper's bubble
    assert "Find this" in page.locator("#chat").inner_text()
    shoot(page, "14-photo-upload")
    context.close()


@pytest.mark.slow
def test_honest_limits_and_a_new_kind_after_a_pick_in_the_browser(browser, shoe_shop_url):
    """Issue 27, items 4 and 6: a price the shop does not have is said plainly, and a message
    naming another kind of item after a pick starts a new search, said in the reply."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(shoe_shop_url)
    page.locator("#message textarea").wait_for()

    send(page, "sports shoes for men under 50 dollars")
    wait_for_chat(page, "This catalogue has no prices, so I can't filter or sort by price")
    shoes = wait_for_gallery(page, 6)  # every men's sports shoe of the shop
    assert all(" Men " in c and " Sports Shoes " in c for c in shoes)  # the rest still searched
    shoot(page, "15-honest-limit")

    page.locator("#results .thumbnail-item").nth(0).click()
    wait_for_chat(page, "Picked " + shoes[0].split("\n")[0])
    send(page, "blue handbags for women")
    wait_for_chat(page, "A new search")
    bags = wait_for_gallery(page, 2, unlike=shoes)  # the shop's two
    assert all(" Women Blue Handbags " in c for c in bags)
    shoot(page, "16-new-kind-after-pick")
    context.close()


def test_a_message_sent_while_a_turn_runs_is_answered_after_it(page):
    """Issue 27, item 1: no input is lost, and the answers stay in order on the page (a busy
    page once applied the first turn's answer after the second's: ui/ordering.py)."""
    box = page.locator("#message textarea")
    # both sent within one task of the page: the second surely while the first turn runs
    when_sent = page.evaluate(SEND_ALL, ["a dress", "with stripes"])
    overlapped = "Searching for" not in when_sent  # no answer yet when the second was sent
    wait_for_chat(page, "I kept dress from before")
    chat = page.locator("#chat").inner_text()
    order = [chat.find(t) for t in ("a dress", "Searching for dress", "with stripes", "I kept")]
    assert overlapped and -1 not in order and order == sorted(order), chat
    assert chat.count("with stripes") == 1 and chat.count("Searching for dress") == 1
    assert all("striped" in c.split("\n")[0] for c in wait_for_gallery(page, 10))
    page.wait_for_function("document.querySelector('#message textarea').value === ''")

    box.fill("in red")  # typed, not sent: a turn that ends meanwhile leaves it alone
    page.locator("#chips button").first.click()
    wait_for_chat(page, "Narrowed to")
    page.locator("#none").click()
    wait_for_chat(page, "away from the ones you passed on")
    assert box.input_value() == "in red"
    shoot(page, "06-queued-message")


@pytest.fixture(scope="module")
def held_colours(app_agent, tmp_path_factory):
    """(app URL, gate): the app with its instance index built in the background only once the
    test opens the gate (the real build, held back so its waiting can be seen)."""
    import threading

    from agent.agent import Agent
    from agent.other_colours import LazyInstance
    from eval.bench.app import free_port
    from retrieval.instance.descriptors import HeadDescriptorEncoder
    from retrieval.instance.query import ExpansionSettings
    from retrieval.instance.store import build_instance
    from ui.app import build_app, launch

    agent, catalogue = app_agent
    folder = tmp_path_factory.mktemp("held-index")
    agent.index.save(folder)
    gate = threading.Event()

    def open_instance():
        gate.wait(120)
        encoder = HeadDescriptorEncoder(agent.encoder)
        return build_instance(folder, catalogue, encoder, ExpansionSettings(dba=False), False)

    held = Agent(agent.gallery, "sum", instance=LazyInstance(open_instance))
    demo = build_app(held)
    launch(
        demo, server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True
    )
    yield demo.local_url.rstrip("/"), gate
    gate.set()
    demo.close()


@pytest.mark.slow
def test_other_colours_says_it_is_getting_ready_until_it_is(browser, held_colours):
    url, gate = held_colours
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    button = page.locator("#other-colours")
    button.wait_for()
    assert button.is_disabled() and "getting ready" in button.inner_text()
    assert "Ready (warmed up in" in page.locator("#status").inner_text()
    assert "other colours are getting ready" in page.locator("#status").inner_text()
    send(page, "a dress")
    wait_for_gallery(page, 10)
    page.locator("#results .thumbnail-item").nth(0).click()
    wait_for_chat(page, "Picked ")
    gate.set()  # the build runs; the page's timer enables the button once it has
    page.wait_for_function("!document.querySelector('#other-colours').disabled")
    assert button.inner_text().strip() == "Other colours of the pick"
    assert "other colours are ready" in page.locator("#status").inner_text()
    button.click()
    wait_for_chat(page, "Here is the same style in other colours")
    context.close()
