"""The app's handlers, called directly: values shown, state kept or restored."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from ui import handlers
from ui.handlers import Update


def results(update: Update):
    return update.session.dialogue.last_results


def reply(update: Update) -> str:
    assert update.chat[-1]["role"] == "assistant"
    return update.chat[-1]["content"]


def start(ctx, text: str, composer: str = "sum") -> Update:
    return handlers.send(ctx, ctx.new_session(), text, None, composer)


FILTERS = ["category", "color", "pattern"]  # fmnist-color's main attributes, the kind first


def selected(update: Update, name: str = "category") -> str:
    """The value the filter control of `name` shows."""
    return dict(zip(FILTERS, (value for _, value in update.filters)))[name]


def chat_text(update: Update) -> str:
    return " ".join(line["content"] for line in update.chat)


def png(image: np.ndarray | Image.Image) -> bytes:
    picture = image if isinstance(image, Image.Image) else Image.fromarray(image)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def test_a_request_shows_results_with_the_requested_attributes(ctx):
    update = start(ctx, "a red dress")
    catalogue = ctx.catalogue
    exact = sum(
        i.attributes["color"] == "red" and i.attributes["category"] == "dress"
        for i in catalogue.items
    )
    shown = results(update)
    assert len(shown) == len(update.gallery) == min(10, exact) > 0
    for result, (path, caption) in zip(shown, update.gallery):
        assert result.attributes["color"] == "red" and result.attributes["category"] == "dress"
        name, why = caption.split("\n")
        assert name == f"red {result.attributes['pattern']} dress"
        assert why == "matches red and dress"
        assert Image.open(path).size == (192, 192)  # a file the browser caches, 3x the render
    assert update.caption == "red, dress"
    assert reply(update).startswith(f"Searching for red dress: {exact} items match.")
    assert "=" not in chat_text(update)
    assert update.chat[-2] == {"role": "user", "content": "a red dress"}
    assert selected(update) == "dress" and selected(update, "color") == "red"
    assert update.composer == "sum" and update.sent == "a red dress"  # the box is emptied
    for stage in ("rewrite", "compose", "search", "initiative", "total"):
        assert f"{stage} " in update.details
    assert "`cpu` (float32)" in update.details and "`fashion-mini`" in update.details
    assert "color=red" in update.details  # the exact constraints have their place there


def test_a_picked_result_is_the_reference_of_the_next_message(ctx):
    first = start(ctx, "a dress")
    chosen = results(first)[3]
    picked = handlers.pick(ctx, first.session, 3)
    assert picked.session.picked == chosen.id
    assert picked.chat[-1]["content"].startswith(f"Picked {chosen.attributes['color']} ")
    assert Image.open(picked.reference).size == (192, 192)
    assert picked.session.dialogue == first.session.dialogue  # nothing searched yet
    refined = handlers.send(ctx, picked.session, "with stripes", None, "sum")
    turn = refined.session.dialogue.turns[-1]
    assert turn.action == "select" and turn.reference_id == chosen.id
    assert refined.session.picked is None
    assert all(r.attributes["pattern"] == "striped" for r in results(refined))
    assert all("striped" in caption.split("\n")[-1] for _, caption in refined.gallery)


def test_other_colours_of_the_pick_is_an_undoable_turn(ctx):
    first = start(ctx, "a dress")
    unpicked = handlers.other_colours(ctx, first.session, None, "sum")
    assert unpicked.chat[-1]["content"] == "⚠️ pick a result first, then ask for its other colours"
    chosen = results(first)[2]
    picked = handlers.pick(ctx, first.session, 2)
    colours = handlers.other_colours(ctx, picked.session, None, "sum")
    turn = colours.session.dialogue.turns[-1]
    assert turn.action == "other_colours" and turn.reference_id == chosen.id
    assert colours.chat[-1]["content"].startswith("Here is the same style in other colours")
    shown = results(colours)
    assert len(shown) == 10 and chosen.id not in {r.id for r in shown}
    assert sum(r.attributes["category"] == "dress" for r in shown) >= 8
    assert len({r.attributes["color"] for r in shown}) >= 3
    back = handlers.undo(ctx, colours.session)
    assert back.session.dialogue == first.session.dialogue


def test_an_edited_caption_searches_again_on_the_same_reference(ctx):
    first = start(ctx, "a dress")
    picked = handlers.pick(ctx, first.session, 0)
    blue = handlers.send(ctx, picked.session, "in blue", None, "sum")
    assert blue.caption == "blue"
    edited = handlers.search_caption(ctx, blue.session, "green", None, "sum")
    before, after = blue.session.dialogue, edited.session.dialogue
    assert after.reference == before.reference and after.reference.item_id == results(first)[0].id
    assert after.turns[-1].caption == edited.caption == "green"
    assert results(edited) and all(r.attributes["color"] == "green" for r in results(edited))
    assert all(r.attributes["category"] == "dress" for r in results(edited))
    assert reply(edited).startswith("Showing green")


def test_undo_restores_the_state_before_the_turn_and_reset_starts_over(ctx):
    first = start(ctx, "a dress")
    # a turn with another composition model: undo takes it back too
    second = handlers.send(ctx, first.session, "in red", None, "text-only")
    assert second.session.dialogue.composer == "text-only" and selected(second, "color") == "red"
    assert len(second.session.dialogue.undo_stack) == 2  # one undo step per turn
    undone = handlers.undo(ctx, second.session)
    assert undone.session.dialogue == first.session.dialogue
    assert [c for _, c in undone.gallery] == [c for _, c in first.gallery]
    assert (undone.caption, selected(undone), undone.composer) == ("dress", "dress", "sum")
    assert selected(undone, "color") == "any"
    assert reply(undone).startswith("Undone")
    assert handlers.undo(ctx, handlers.undo(ctx, undone.session).session).chat[-1]["content"] == (
        "Nothing to undo."
    )
    reset = handlers.reset(ctx, second.session)
    assert reset.session.dialogue == ctx.agent.new_state(composer="text-only")
    assert reset.chat == [] and reset.gallery == [] and reset.caption == ""
    assert selected(reset) == "any" and reset.chips == [""] * 6


@pytest.fixture(scope="module")
def bad_uploads(tmp_path_factory) -> dict[str, tuple[str, str]]:
    """name -> (path, part of the message it must give)."""
    folder = tmp_path_factory.mktemp("uploads")
    files = {
        "corrupt.png": (png(np.zeros((8, 8, 3), np.uint8))[:40], "not a readable image"),
        "notes.txt": (b"a red dress, please", "not a readable image"),
        "empty.jpg": (b"", "empty file"),
        # 20,000 x 3,000 pixels: a tiny 1-bit PNG that must be refused before decoding
        "huge.png": (png(Image.new("1", (20_000, 3_000))), "too large"),
    }
    for name, (data, _) in files.items():
        (folder / name).write_bytes(data)
    return {name: (str(folder / name), message) for name, (_, message) in files.items()}


@pytest.mark.parametrize("name", ["corrupt.png", "notes.txt", "empty.jpg", "huge.png"])
def test_a_bad_upload_is_a_message_and_the_session_goes_on(ctx, bad_uploads, name):
    path, message = bad_uploads[name]
    first = start(ctx, "a bag")
    update = handlers.upload(ctx, first.session, path, "", None, "sum")
    assert update.session.dialogue == first.session.dialogue
    assert update.chat[:-2] == first.chat and update.chat[-2]["content"] == f"Find this ({name})"
    assert reply(update).startswith("⚠️") and message in reply(update) and name in reply(update)
    assert "\n" not in reply(update)
    assert [c for _, c in update.gallery] == [c for _, c in first.gallery]
    after = handlers.send(ctx, update.session, "in red", None, "sum")
    assert all(r.attributes["color"] == "red" for r in results(after))


def test_an_upload_becomes_the_reference(ctx, tmp_path):
    item = ctx.catalogue.items[3]
    path = tmp_path / "photo.png"
    path.write_bytes(png(ctx.catalogue.render([3])[0]))
    for upload in (str(path), path.read_bytes()):
        update = handlers.upload(ctx, ctx.new_session(), upload, "", None, "sum")
        assert update.session.dialogue.reference.kind == "upload"
        assert results(update)[0].id == item.id
        assert update.reference is not None and update.reference.shape[2] == 3
        assert update.reference_label == "Starting from: your upload"


def test_an_upload_stored_turned_is_read_as_shown(ctx, tmp_path):
    """A phone photo stored sideways with EXIF orientation 6 is searched and shown upright."""
    item = ctx.catalogue.items[3]
    render = ctx.catalogue.render([3])[0]
    exif = Image.Exif()
    exif[0x0112] = 6  # the stored pixels are shown turned 90 degrees clockwise
    path = tmp_path / "phone.jpg"
    stored = Image.fromarray(render).transpose(Image.Transpose.ROTATE_90)
    stored.save(path, "JPEG", quality=95, exif=exif.tobytes())
    update = handlers.upload(ctx, ctx.new_session(), str(path), "", None, "sum")
    assert results(update)[0].id == item.id
    shown = update.reference.astype(int)  # the reference as the app shows it
    assert shown.shape == render.shape
    assert np.abs(shown - render).mean() < 4  # JPEG's loss only
    assert np.abs(shown - np.rot90(render)).mean() > 4 * np.abs(shown - render).mean()


def test_empty_and_very_long_messages(ctx):
    session = ctx.new_session()
    empty = handlers.send(ctx, session, "   ", None, "sum")
    assert empty.session.dialogue == session.dialogue and "message is empty" in reply(empty)
    assert empty.sent == ""  # nothing ran: the box keeps the text, to be fixed
    long = handlers.send(ctx, session, "red dress " * 1000, None, "sum")
    assert len(results(long)) > 0 and "shortened" in reply(long)
    assert len(long.chat[-2]["content"]) <= handlers.MAX_SHOWN_CHARS + 1


def test_a_filter_searches_again_with_counts_and_words_win_over_it(ctx):
    red = start(ctx, "something red")
    bags = handlers.refilter(ctx, red.session, ["bag", "red", "any"], "sum")
    assert results(bags) and all(
        r.attributes["category"] == "bag" and r.attributes["color"] == "red" for r in results(bags)
    )
    assert bags.session.dialogue.anchor_query == red.session.dialogue.anchor_query
    assert selected(bags) == "bag" and "category=bag" in bags.details
    assert bags.chat[-2]["content"] == "Filter Category: bag"
    red_bags = sum(
        i.attributes["category"] == "bag" and i.attributes["color"] == "red"
        for i in ctx.catalogue.items
    )
    colours = dict((v, label) for label, v in bags.filters[1][0])
    assert colours["red"] == f"red ({red_bags})"  # counts under the other filters
    assert reply(bags).startswith(f"Narrowed to red bag: {red_bags} items match.")
    # words win over the filter in their own turn, and the filter follows
    dresses = handlers.send(ctx, bags.session, "make it a dress", None, "sum")
    assert all(r.attributes["category"] == "dress" for r in results(dresses))
    assert selected(dresses) == "dress"
    anything = handlers.refilter(ctx, dresses.session, ["any", "red", "any"], "sum")
    assert selected(anything) == "any"
    assert not [c for c in anything.session.dialogue.constraints if c.attribute == "category"]
    assert len({r.attributes["category"] for r in results(anything)}) > 1
    assert handlers.undo(ctx, anything.session).session.dialogue == dresses.session.dialogue


def test_a_chip_is_a_turn_that_narrows_the_results(ctx):
    dresses = start(ctx, "a dress")
    offer = dresses.session.dialogue.turns[-1].offer
    assert offer.kind == "suggestion" and dresses.chips[: len(offer.chips)] == [
        c.value for c in offer.chips
    ]
    label = ctx.agent.schema.label(offer.attribute).lower()
    assert f"Narrow it down by {label}:" in reply(dresses)
    clicked = handlers.choose(ctx, dresses.session, 0, None, "sum")
    chip = offer.chips[0]
    assert clicked.chat[-2]["content"] == chip.value
    assert results(clicked) and all(
        r.attributes[chip.attribute] == chip.value and r.attributes["category"] == "dress"
        for r in results(clicked)
    )
    assert handlers.undo(ctx, clicked.session).session.dialogue == dresses.session.dialogue
    gone = handlers.choose(ctx, clicked.session, 5, None, "sum")
    assert "that suggestion is gone" in reply(gone)


def test_the_model_switch_applies_to_the_next_turn(ctx):
    first = start(ctx, "a dress")
    picked = handlers.pick(ctx, first.session, 0)
    by_text = handlers.send(ctx, picked.session, "with dots", None, "text-only")
    by_image = handlers.send(ctx, picked.session, "with dots", None, "image-only")
    assert by_image.session.dialogue.composer == by_image.composer == "image-only"
    assert "composer `image-only`" in by_image.details
    assert [r.id for r in results(by_text)] != [r.id for r in results(by_image)]
    unknown = handlers.send(ctx, first.session, "with dots", None, "no-such-model")
    assert "unknown composition model 'no-such-model'" in reply(unknown)
    assert unknown.session.dialogue == first.session.dialogue


def test_none_of_these_shows_new_items_and_a_stale_pick_is_refused(ctx):
    first = start(ctx, "a coat")
    again = handlers.none_of_these(ctx, first.session, None, "sum")
    assert not {r.id for r in results(first)} & {r.id for r in results(again)}
    assert set(again.session.dialogue.rejected) == {r.id for r in results(first)}
    stale = handlers.pick(ctx, again.session, 42)
    assert stale.session.picked is None and "pick one shown now" in stale.chat[-1]["content"]


def test_handlers_never_change_the_session_they_are_given(ctx):
    first = start(ctx, "a sneaker")
    kept = first.session.model_copy(deep=True)
    handlers.send(ctx, first.session, "in black", None, "text-only")
    handlers.refilter(ctx, first.session, ["sandal", "any", "any"], "sum")
    handlers.choose(ctx, first.session, 0, None, "sum")
    handlers.pick(ctx, first.session, 1)
    handlers.undo(ctx, first.session)
    handlers.reset(ctx, first.session)
    assert first.session == kept


def test_the_session_adapter_runs_a_turn_on_the_settings_and_undoes_to_before_them(ctx):
    from agent.agent import Turn
    from ui.session import NOTHING_TO_UNDO, UNDONE

    talk = ctx.conversation
    state, _ = talk.turn(talk.new_state(), Turn(text="a dress"))
    ready = handlers.with_settings(ctx, state, None, "text-only")
    after, reply = talk.turn(state, Turn(text="in red"), ready)
    assert after.composer == "text-only" and state.composer == "sum"
    assert reply == talk.reply(after) and len(after.undo_stack) == 2
    assert talk.undo(after) == (state, UNDONE)
    assert talk.undo(talk.new_state())[1] == NOTHING_TO_UNDO
    assert talk.shown(after, 0) == after.last_results[0]
    assert talk.shown(after, len(after.last_results)) is None and talk.shown(after, -1) is None
    chips = talk.chips(after)
    assert talk.chip(after, len(chips)) is None
    assert [talk.chip(after, i) for i in range(len(chips))] == chips
