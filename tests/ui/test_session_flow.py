"""A shopper's session as it goes: their own words in the chat, an upload that starts from the
photo, a new kind of item after a pick, other colours ready before they are asked."""

from __future__ import annotations

import io
import threading

from PIL import Image

from agent.agent import Agent
from agent.other_colours import LazyInstance
from retrieval.instance.descriptors import HeadDescriptorEncoder
from retrieval.instance.query import ExpansionSettings
from retrieval.instance.store import build_instance
from ui import handlers, readiness
from ui.handlers import AppContext, Update


def results(update: Update):
    return update.session.dialogue.last_results


def reply(update: Update) -> str:
    return update.chat[-1]["content"]


def start(ctx, text: str) -> Update:
    return handlers.send(ctx, ctx.new_session(), text, None, "sum")


def texts(update: Update) -> list[str]:
    return [m["content"] for m in update.chat if isinstance(m["content"], str)]


def required(update: Update) -> dict[str, str]:
    return {
        c.attribute: c.value for c in update.session.dialogue.constraints if c.polarity == "require"
    }


def test_the_shoppers_bubble_holds_their_words_and_a_picture_of_the_pick(ctx):
    first = start(ctx, "a dress")
    chosen = results(first)[1]
    picked = handlers.pick(ctx, first.session, 1)
    refined = handlers.send(ctx, picked.session, "same but with stripes", None, "sum")
    picture, words = refined.chat[-3], refined.chat[-2]
    assert picture == {"role": "user", "content": {"path": ctx.thumbnails.path(chosen.id)}}
    assert words == {"role": "user", "content": "same but with stripes"}
    colours = handlers.other_colours(ctx, refined.session, None, "sum")
    assert colours.chat[-2] == {"role": "user", "content": "Other colours of this"}
    assert colours.chat[-3]["content"] == {"path": ctx.thumbnails.path(chosen.id)}
    ids = {r.id for u in (first, refined, colours) for r in results(u)}
    assert not any(f"[{i}]" in line for line in texts(colours) for i in ids)  # no item ids


def test_a_pick_clicked_on_results_that_changed_is_refused(ctx):
    first = start(ctx, "a dress")
    shown = ctx.thumbnails.path(results(first)[2].id)
    assert handlers.pick(ctx, first.session, 2, shown).session.picked == results(first)[2].id
    other = handlers.pick(ctx, first.session, 2, "/file=some/other-item.png")
    assert other.session.picked is None and "pick one shown now" in other.chat[-1]["content"]


def png_of(ctx, position: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(ctx.catalogue.render([position])[0]).save(buffer, "PNG")
    return buffer.getvalue()


def test_an_upload_starts_a_new_search_from_the_photo_and_says_what_it_let_go(ctx, tmp_path):
    bags = start(ctx, "a red bag")
    assert required(bags) == {"category": "bag", "color": "red"}
    position = next(
        i
        for i, item in enumerate(ctx.catalogue.items)
        if item.attributes["category"] == "dress" and item.attributes["color"] != "red"
    )
    item = ctx.catalogue.items[position]
    path = tmp_path / "dress.png"
    path.write_bytes(png_of(ctx, position))
    photo = handlers.upload(ctx, bags.session, str(path), "", None, "sum")
    dialogue = photo.session.dialogue
    assert dialogue.reference.kind == "upload" and dialogue.constraints == []
    assert results(photo)[0].id == item.id  # the photo's own item first: no red bag kept
    assert reply(photo).startswith("Here are items like your photo.")
    assert "A new search from your photo: I let go of red and bag from before." in reply(photo)
    assert photo.chat[-3]["content"] == {"path": str(path)} and photo.chat[-2]["content"] == (
        "Find this"
    )
    other = next(
        v for v in ctx.agent.schema.attributes["color"].values if v != item.attributes["color"]
    )
    with_words = handlers.upload(ctx, bags.session, str(path), f"this but in {other}", None, "sum")
    assert with_words.session.dialogue.reference.kind == "upload"
    assert required(with_words) == {"color": other}  # the words refine the photo
    assert all(r.attributes["color"] == other for r in results(with_words))
    # the kind comes from the photo alone (a tenth of the gallery is dresses)
    assert sum(r.attributes["category"] == "dress" for r in results(with_words)) >= 3
    assert with_words.sent == f"this but in {other}"


def test_an_upload_on_a_new_session_is_a_plain_search_from_it(ctx, tmp_path):
    update = handlers.upload(ctx, ctx.new_session(), png_of(ctx, 5), "", None, "sum")
    assert results(update)[0].id == ctx.catalogue.items[5].id
    assert "new search" not in reply(update).lower()


def test_a_new_kind_of_item_after_a_pick_is_a_new_search(ctx):
    dresses = start(ctx, "a red dress")
    picked = handlers.pick(ctx, dresses.session, 0)
    bags = handlers.send(ctx, picked.session, "a striped bag", None, "sum")
    dialogue, turn = bags.session.dialogue, bags.session.dialogue.turns[-1]
    assert turn.new_search and dialogue.reference is None
    assert required(bags) == {"category": "bag", "pattern": "striped"}  # red let go
    assert all(
        r.attributes["category"] == "bag" and r.attributes["pattern"] == "striped"
        for r in results(bags)
    )
    assert "A new search: I let go of red, dress and your pick." in reply(bags)
    assert handlers.undo(ctx, bags.session).session.dialogue == dresses.session.dialogue

    for refinement in ("same but with stripes", "this as a bag", "a bag instead", "a bag"):
        kept = handlers.send(ctx, picked.session, refinement, None, "sum")
        turn = kept.session.dialogue.turns[-1]
        assert not turn.new_search, refinement
        assert kept.session.dialogue.reference.item_id == results(dresses)[0].id, refinement
        assert "new search" not in reply(kept).lower(), refinement


def test_other_colours_are_prepared_at_start_and_refused_until_ready(app_agent, tmp_path):
    agent, catalogue = app_agent
    folder = tmp_path / "index"
    agent.index.save(folder)
    go = threading.Event()

    def open_instance():  # the real build, held back until the test lets it start
        go.wait(60)
        encoder = HeadDescriptorEncoder(agent.encoder)
        return build_instance(folder, catalogue, encoder, ExpansionSettings(dba=False), False)

    fresh = Agent(agent.gallery, "sum", instance=LazyInstance(open_instance))
    ctx = AppContext(fresh)
    ready = readiness.prepare(fresh, ["a dress"])
    assert ready.colours == "preparing" and ready.warmed_s > 0
    button = readiness.colours_button(ready)
    assert button["interactive"] is False and button["value"] == "Other colours (getting ready…)"
    assert "other colours are getting ready" in ready.status_line()
    first = start(ctx, "a dress")
    picked = handlers.pick(ctx, first.session, 0)
    early = handlers.other_colours(ctx, picked.session, None, "sum")  # refused, not waited on
    assert "still being prepared" in reply(early) and results(early) == results(first)
    go.set()
    assert fresh.colours.instance.wait(120) == "ready"
    button = readiness.colours_button(ready)
    assert button["interactive"] is True and button["value"] == "Other colours of the pick"
    colours = handlers.other_colours(ctx, picked.session, None, "sum")
    assert reply(colours).startswith("Here is the same style in other colours")
    assert len({r.attributes["color"] for r in results(colours)}) >= 3


def test_the_warm_up_leaves_no_trace_and_the_first_turn_is_like_a_later_one(app_agent):
    agent, catalogue = app_agent
    fresh = Agent(agent.gallery, "sum")  # its own rewriter, nothing cached yet
    seconds = fresh.warm_up(["a red dress", "in blue"])
    assert 0 < seconds < 60
    ctx = AppContext(fresh)
    first = start(ctx, "a green coat").session.dialogue.turns[-1].timings_ms["total"]
    later = [start(ctx, "a green coat").session.dialogue.turns[-1].timings_ms["total"]]
    later += [start(ctx, "a blue bag").session.dialogue.turns[-1].timings_ms["total"]]
    assert first < 3 * max(later) + 50  # no first-call cost left (ms; loose: a shared CPU)
