"""The app's event handlers: plain functions from a session and the page's inputs to its outputs.

Each handler returns a new `Session` (the input one is never changed) and what the page shows.
Every failure of a turn becomes an assistant message; the session goes on as it was. No lock
is held here: the agent is shared read-only and its encoder guards what is not thread-safe,
so a slow LLM call in one session never holds up another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, Field

from agent.agent import Agent, Turn, TurnError
from agent.constraints import merge_constraints
from agent.state import Constraint, DialogueState
from retrieval.catalogues import Catalogue, decode_image
from ui import view
from ui.session import Conversation
from ui.thumbnails import Thumbnails

MAX_SHOWN_CHARS = 1000  # a longer message is cut in the chat (the agent notes its own cut)
CHAT_SHOWN = 40  # chat messages sent to the page: the payload does not grow with the dialogue


class Session(BaseModel):
    """One browser session: the dialogue, the chat shown, and a result picked for the next turn."""

    dialogue: DialogueState
    chat: list[dict[str, Any]] = Field(default_factory=list)  # {"role": ..., "content": ...}
    picked: str | None = None
    version: int = 0  # one more per event: which of two copies is the newer (ui/ordering.py)


@dataclass
class AppContext:
    """What every session shares, read-only: the agent (its gallery: encoder, index, the
    catalogue), the catalogue's display images on disk, its facet counts, and the session
    actions over the agent."""

    agent: Agent
    thumbnails: Thumbnails = None
    facets: view.Facets = field(init=False)
    conversation: Conversation = field(init=False)

    @property
    def catalogue(self) -> Catalogue:
        return self.agent.gallery.catalogue

    def __post_init__(self) -> None:
        self.thumbnails = self.thumbnails or Thumbnails(self.catalogue)
        self.facets = view.Facets(self.agent.searcher)
        self.conversation = Conversation(self.agent)

    @property
    def filters(self) -> list[str]:
        """The main attributes, one filter control each."""
        return self.facets.names

    def new_session(self) -> Session:
        return Session(dialogue=self.conversation.new_state())


class Update(NamedTuple):
    """The outputs of a turn handler, in the order the app wires them (`filters` and `chips`
    are lists: one entry per filter control and per chip button)."""

    session: Session
    chat: list[dict[str, str]]
    gallery: list[tuple[str, str]]
    caption: str
    details: str
    reference: Any
    reference_label: str
    filters: list[tuple[list, str]]  # (choices, selected value) per main attribute
    composer: str
    sent: str  # the message whose turn ran: the page empties the box if it still holds it
    chips: list[str]  # chip labels; "" for a hidden button


def _line(role: str, content: Any) -> dict[str, Any]:
    return {"role": role, "content": content}


def _as_shown(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS] + "…"


def chip_labels(dialogue: DialogueState) -> list[str]:
    labels = [c.value for c in Conversation.chips(dialogue)]
    return (labels + [""] * view.MAX_CHIPS)[: view.MAX_CHIPS]


class Said(NamedTuple):
    """The shopper's side of a turn: what their bubble shows (their own words, and a small
    picture of what the turn starts from, a pick or an upload, where there is one) and the
    message box's text the turn runs with (the page empties the box if it still holds it once
    the turn ran; nothing is emptied when it fails)."""

    text: str
    picture: str | None = None  # an image file the page may serve
    sent: str = ""  # the message box's text, as sent


def _user_lines(said: Said | str) -> list[dict[str, Any]]:
    said = said if isinstance(said, Said) else Said(said)
    picture = [_line("user", {"path": said.picture})] if said.picture else []
    return [*picture, _line("user", said.text)]


def render(
    ctx: AppContext, session: Session, composer: str | None = None, sent: str = ""
) -> Update:
    """Everything the page shows for `session`; the filters and composer follow the dialogue."""
    dialogue = session.dialogue
    image, label = view.reference(ctx.thumbnails, ctx.catalogue, dialogue, session.picked)
    constraints = dialogue.constraints
    return Update(
        session=session,
        chat=session.chat[-CHAT_SHOWN:],
        gallery=view.gallery_items(ctx.thumbnails, dialogue.last_results, ctx.agent.schema),
        caption=dialogue.turns[-1].caption if dialogue.turns else "",
        details=view.details_markdown(ctx.agent, dialogue),
        reference=image,
        reference_label=label,
        filters=[
            (ctx.facets.choices(n, constraints), view.selected_value(constraints, n))
            for n in ctx.filters
        ],
        composer=composer or dialogue.composer,
        sent=sent,
        chips=chip_labels(dialogue),
    )


def with_settings(
    ctx: AppContext, dialogue: DialogueState, filters: list[str] | None, composer: str
) -> DialogueState:
    """A copy of `dialogue` with the page's composition model and filters applied: a value
    requires it, 'any' drops that attribute's requirement (None: filters left as they are)."""
    ready = dialogue.fork()
    ready.composer = composer or dialogue.composer
    schema = ctx.agent.schema
    for name, value in zip(ctx.filters, filters or []):
        if value in (None, ""):
            continue
        if value == view.ANY:
            ready.constraints = [
                c
                for c in ready.constraints
                if not (c.attribute == name and c.polarity == "require")
            ]
        elif value != view.selected_value(ready.constraints, name):
            wanted = Constraint(attribute=name, value=value, polarity="require", clicked=True)
            ready.constraints = merge_constraints(ready.constraints, [wanted], schema)
    return ready


def failed(
    ctx: AppContext, session: Session, said: Said | str, error: str, composer: str
) -> Update:
    """The session unchanged, with the user's line and the reason in the chat; the message
    box keeps what it holds (nothing ran)."""
    chat = [*session.chat, *_user_lines(said), _line("assistant", f"⚠️ {error}")]
    kept = session.model_copy(update={"chat": chat})
    return render(ctx, kept, composer)


def composer_problem(ctx: AppContext, name: str) -> str:
    """Why the composition model `name` cannot be used (unknown, no weights), or ''."""
    try:
        ctx.agent.composer(name)
    except (ValueError, FileNotFoundError) as err:
        return str(err)
    return ""


def run_turn(
    ctx: AppContext,
    session: Session,
    turn: Turn,
    said: Said | str,
    filters: list[str] | None,
    composer: str,
    revised_caption: str | None = None,
) -> Update:
    """Apply `turn` (or, with `revised_caption`, redo the last turn with that caption) with the
    page's settings; on failure the reason goes to the chat."""

    def act(ready: DialogueState) -> tuple[DialogueState, str]:
        if revised_caption is None:
            return ctx.conversation.turn(session.dialogue, turn, ready)
        return ctx.conversation.revise(session.dialogue, revised_caption)

    return run_action(ctx, session, act, said, filters, composer)


def run_action(
    ctx: AppContext,
    session: Session,
    act: Callable[[DialogueState], tuple[DialogueState, str]],
    said: Said | str,
    filters: list[str] | None,
    composer: str,
) -> Update:
    """Run one of the session's turns, `act(dialogue with the page's settings)` (undo goes
    back to the dialogue as it was before them); its reply goes to the chat, or on failure
    the reason."""
    ready = with_settings(ctx, session.dialogue, filters, composer)
    problem = composer_problem(ctx, ready.composer)
    if problem:
        return failed(ctx, session, said, problem, composer)
    try:
        dialogue, reply = act(ready)
    except TurnError as err:
        return failed(ctx, session, said, str(err), composer)
    chat = [*session.chat, *_user_lines(said), _line("assistant", reply)]
    sent = said.sent if isinstance(said, Said) else ""
    return render(ctx, Session(dialogue=dialogue, chat=chat, version=session.version), sent=sent)


def send(
    ctx: AppContext,
    session: Session,
    text: str,
    filters: list[str] | None = None,
    composer: str = "",
) -> Update:
    """A chat message; it refines the picked result when one was clicked (the bubble shows a
    small picture of it beside the shopper's words)."""
    text = text or ""
    said = Said(_as_shown(text) or "(empty message)", sent=text)
    if session.picked:
        picture = str(ctx.thumbnails.path(session.picked))
        said = Said(_as_shown(text) or "More like this", picture, text)
    turn = Turn(text=text, select=session.picked)
    return run_turn(ctx, session, turn, said, filters, composer)


def choose(
    ctx: AppContext,
    session: Session,
    index: int,
    filters: list[str] | None = None,
    composer: str = "",
) -> Update:
    """A click on the `index`-th chip: its value becomes a requirement (a turn, undoable)."""
    chip = ctx.conversation.chip(session.dialogue, index)
    if chip is None:
        return failed(
            ctx, session, "(suggestion)", "that suggestion is gone: pick one shown now", composer
        )
    return run_turn(ctx, session, Turn(choose=chip.constraint()), chip.value, None, composer)


def refilter(ctx: AppContext, session: Session, filters: list[str], composer: str = "") -> Update:
    """A filter changed: the same request, searched again under the new filters."""
    before = {
        (c.attribute, c.value) for c in session.dialogue.constraints if c.polarity == "require"
    }
    ready = with_settings(ctx, session.dialogue, filters, composer)
    after = {(c.attribute, c.value) for c in ready.constraints if c.polarity == "require"}
    changes = [f"{ctx.agent.schema.label(a)}: {v}" for a, v in sorted(after - before)]
    changes += [f"{ctx.agent.schema.label(a)}: any" for a, _ in sorted(before - after)]
    said = f"Filter {', '.join(changes)}" if changes else "Filters"
    turn = Turn(refilter=True)
    return run_turn(ctx, session, turn, said, filters, composer)


def search_caption(
    ctx: AppContext,
    session: Session,
    caption: str,
    filters: list[str] | None = None,
    composer: str = "",
) -> Update:
    """Redo the last turn with the shopper's edit of its rewritten caption: the constraints
    that turn added are read from the edit ("blue, dress" edited to "dress" drops blue)."""
    caption = caption or ""
    said = f"Search with the caption “{_as_shown(caption)}”"
    turn = Turn(text=caption, caption=caption)
    return run_turn(ctx, session, turn, said, filters, composer, revised_caption=caption)


def other_colours(
    ctx: AppContext, session: Session, filters: list[str] | None = None, composer: str = ""
) -> Update:
    """The picked result (else the current reference) in other colours: an undoable turn."""
    dialogue = session.dialogue
    item = session.picked or (dialogue.reference.item_id if dialogue.reference else None)
    if item is None:
        problem = "pick a result first, then ask for its other colours"
        return failed(ctx, session, "Other colours of this", problem, composer)

    def act(ready: DialogueState) -> tuple[DialogueState, str]:
        return ctx.conversation.other_colours(session.dialogue, item, ready)

    said = Said("Other colours of this", str(ctx.thumbnails.path(item)))
    return run_action(ctx, session, act, said, filters, composer)


def none_of_these(
    ctx: AppContext, session: Session, filters: list[str] | None = None, composer: str = ""
) -> Update:
    return run_turn(ctx, session, Turn(none_of_these=True), "None of these.", filters, composer)


def read_upload(upload: str | Path | bytes) -> tuple[bytes, str]:
    """(bytes, display name) of an upload given as a file path or as bytes."""
    if isinstance(upload, bytes):
        return upload, "the upload"
    path = Path(upload)
    return path.read_bytes(), path.name


def upload(
    ctx: AppContext,
    session: Session,
    file: str | Path | bytes | None,
    text: str = "",
    filters: list[str] | None = None,
    composer: str = "",
) -> Update:
    """An uploaded picture becomes the reference of a new search; the message box, if filled,
    says what to change ("this but in white") and its turn runs with the upload."""
    if file is None:
        return failed(ctx, session, "(upload)", "no file arrived: upload it again", composer)
    data, name = read_upload(file)
    picture = None if isinstance(file, bytes) else str(file)
    said = Said(_as_shown(text or "") or "Find this", picture, text or "")
    try:
        image = decode_image(data, name)
    except ValueError as err:
        return failed(ctx, session, Said(f"{said.text} ({name})"), str(err), composer)
    turn = Turn(image=image, text=text or "")
    return run_turn(ctx, session, turn, said, filters, composer)


class Picked(NamedTuple):
    session: Session
    chat: list[dict[str, Any]]
    reference: Any
    reference_label: str


def pick(ctx: AppContext, session: Session, index: int, seen: str | None = None) -> Picked:
    """A click on the `index`-th result: the next message starts from it. `seen`: the image
    file (or its URL) the shopper clicked; a pick of results that changed since is refused."""
    chosen = ctx.conversation.shown(session.dialogue, index)
    if chosen is not None and seen and Path(ctx.thumbnails.path(chosen.id)).name not in seen:
        chosen = None  # the results changed while the click was on its way
    if chosen is None:
        chat = [*session.chat, _line("assistant", "⚠️ that result is gone: pick one shown now")]
        kept = session.model_copy(update={"chat": chat, "picked": None})
        return Picked(
            kept,
            chat[-CHAT_SHOWN:],
            *view.reference(ctx.thumbnails, ctx.catalogue, kept.dialogue, None),
        )
    reply = (
        f"Picked {view.describe(chosen, ctx.agent.schema)}: say what to change, "
        "or press Send for more like it."
    )
    picked = session.model_copy(
        update={"picked": chosen.id, "chat": [*session.chat, _line("assistant", reply)]}
    )
    image, label = view.reference(ctx.thumbnails, ctx.catalogue, picked.dialogue, chosen.id)
    return Picked(picked, picked.chat[-CHAT_SHOWN:], image, label)


def undo(ctx: AppContext, session: Session) -> Update:
    """The dialogue exactly as before the last turn; the chat keeps the history and says so."""
    dialogue, reply = ctx.conversation.undo(session.dialogue)
    chat = [*session.chat, _line("user", "Undo"), _line("assistant", reply)]
    return render(ctx, Session(dialogue=dialogue, chat=chat))


def reset(ctx: AppContext, session: Session) -> Update:
    """A new dialogue (same composition model) and an empty chat."""
    return render(ctx, Session(dialogue=ctx.conversation.reset(session.dialogue)))
