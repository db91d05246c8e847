"""The app's event handlers: plain functions from a session and the page's inputs to its outputs.

Each handler returns a new `Session` (the input one is never changed) and what the page shows.
Every failure of a turn becomes an assistant message; the session goes on as it was.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
from pydantic import BaseModel, Field

from agent.agent import Agent, Turn, TurnError
from agent.constraints import merge_constraints
from agent.state import Constraint, DialogueState
from retrieval.catalogues import Catalogue, decode_image
from retrieval.catalogues.schema import CatalogueSchema
from ui import replies, view

MAX_SHOWN_CHARS = 1000  # a longer message is cut in the chat (the agent notes its own cut)


class Session(BaseModel):
    """One browser session: the dialogue, the chat shown, and a result picked for the next turn."""

    dialogue: DialogueState
    chat: list[dict[str, str]] = Field(default_factory=list)  # {"role": ..., "content": ...}
    picked: str | None = None


@dataclass
class AppContext:
    """What every session shares, read-only: the agent (encoder, index) and the catalogue."""

    agent: Agent
    catalogue: Catalogue
    # the encoder's tokenizer is not safe to use from two threads at once
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_session(self) -> Session:
        return Session(dialogue=self.agent.new_state())

    def categories(self) -> list[str]:
        """The kind-of-item filter's choices: the schema's kind attribute values, by count."""
        kind = self.agent.schema.kind
        if not kind:
            return [view.ANY_CATEGORY]
        return [view.ANY_CATEGORY, *self.agent.schema.attributes[kind].values]


class Update(NamedTuple):
    """The outputs of a turn handler, in the order the app wires them."""

    session: Session
    chat: list[dict[str, str]]
    gallery: list[tuple[np.ndarray, str]]
    caption: str
    details: str
    reference: np.ndarray | None
    category: str
    composer: str
    message: str


def _line(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def _said(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS] + "…"


def render(
    ctx: AppContext,
    session: Session,
    category: str | None = None,
    composer: str | None = None,
    message: str = "",
) -> Update:
    """Everything the page shows for `session`; category and composer follow the dialogue."""
    dialogue = session.dialogue
    return Update(
        session=session,
        chat=session.chat,
        gallery=view.gallery_items(ctx.catalogue, dialogue.last_results),
        caption=dialogue.turns[-1].caption if dialogue.turns else "",
        details=view.details_markdown(ctx.agent, dialogue),
        reference=view.reference_image(ctx.catalogue, dialogue, session.picked),
        category=category or view.active_category(dialogue, ctx.agent.schema.kind),
        composer=composer or dialogue.composer,
        message=message,
    )


def with_settings(
    dialogue: DialogueState, category: str, composer: str, schema: CatalogueSchema
) -> DialogueState:
    """A copy of `dialogue` with the page's composition model and kind filter applied."""
    ready = dialogue.model_copy(deep=True)
    ready.composer = composer or dialogue.composer
    kind = schema.kind
    if kind and category and category != view.ANY_CATEGORY:
        required = Constraint(attribute=kind, value=category, polarity="require")
        ready.constraints = merge_constraints(ready.constraints, [required], schema)
    elif kind and category == view.ANY_CATEGORY:
        ready.constraints = [
            c for c in ready.constraints if not (c.attribute == kind and c.polarity == "require")
        ]
    return ready


def failed(
    ctx: AppContext,
    session: Session,
    said: str,
    error: str,
    category: str,
    composer: str,
    message: str = "",
) -> Update:
    """The session unchanged, with the user's line and the reason in the chat."""
    chat = [*session.chat, _line("user", said), _line("assistant", f"⚠️ {error}")]
    kept = session.model_copy(update={"chat": chat})
    return render(ctx, kept, category, composer, message)


def composer_problem(ctx: AppContext, name: str) -> str:
    """Why the composition model `name` cannot be used (unknown, no weights), or ''."""
    try:
        with ctx.lock:
            ctx.agent.composer(name)
    except (ValueError, FileNotFoundError) as err:
        return str(err)
    return ""


def run_turn(
    ctx: AppContext,
    session: Session,
    turn: Turn,
    said: str,
    category: str,
    composer: str,
    message: str = "",
    revised_caption: str | None = None,
) -> Update:
    """Apply `turn` (or, with `revised_caption`, redo the last turn with that caption) with the
    page's settings; on failure the reason goes to the chat."""
    ready = with_settings(session.dialogue, category, composer, ctx.agent.schema)
    problem = composer_problem(ctx, ready.composer)
    if problem:
        return failed(ctx, session, said, problem, category, composer, message)
    try:
        with ctx.lock:
            if revised_caption is None:
                dialogue, _ = ctx.agent.step(ready, turn)
            else:
                dialogue, _ = ctx.agent.revise(ready, revised_caption)
    except TurnError as err:
        return failed(ctx, session, said, str(err), category, composer, message)
    # the settings belong to this turn: undo goes back to the dialogue as it was before them
    dialogue.undo_stack[-1] = session.dialogue.snapshot()
    chat = [
        *session.chat,
        _line("user", said),
        _line("assistant", replies.reply(dialogue, ctx.agent.schema)),
    ]
    return render(ctx, Session(dialogue=dialogue, chat=chat))


def send(ctx: AppContext, session: Session, text: str, category: str, composer: str) -> Update:
    """A chat message; it refines the picked result when one was clicked."""
    text = text or ""
    said = _said(text) or "(empty message)"
    if session.picked:
        said = f"[{session.picked}] {_said(text)}".strip()
    turn = Turn(text=text, select=session.picked)
    return run_turn(ctx, session, turn, said, category, composer, message=text)


def search_caption(
    ctx: AppContext, session: Session, caption: str, category: str, composer: str
) -> Update:
    """Redo the last turn with the shopper's edit of its rewritten caption: the constraints
    that turn added are read from the edit ("blue, dress" edited to "dress" drops blue)."""
    caption = caption or ""
    said = f"Search with the caption “{_said(caption)}”"
    turn = Turn(text=caption, caption=caption)
    return run_turn(ctx, session, turn, said, category, composer, revised_caption=caption)


def none_of_these(ctx: AppContext, session: Session, category: str, composer: str) -> Update:
    return run_turn(ctx, session, Turn(none_of_these=True), "None of these.", category, composer)


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
    text: str,
    category: str,
    composer: str,
) -> Update:
    """An uploaded picture becomes the reference; the message box, if filled, refines it."""
    if file is None:
        return failed(
            ctx, session, "(upload)", "no file arrived: upload it again", category, composer, text
        )
    data, name = read_upload(file)
    said = f"[uploaded {name}] {_said(text or '')}".strip()
    try:
        image = decode_image(data, name)
    except ValueError as err:
        return failed(ctx, session, said, str(err), category, composer, text)
    return run_turn(ctx, session, Turn(image=image, text=text or ""), said, category, composer)


class Picked(NamedTuple):
    session: Session
    chat: list[dict[str, str]]
    reference: np.ndarray | None


def pick(ctx: AppContext, session: Session, index: int) -> Picked:
    """A click on the `index`-th result: the next message starts from it."""
    results = session.dialogue.last_results
    if not 0 <= index < len(results):
        chat = [*session.chat, _line("assistant", "⚠️ that result is gone: pick one shown now")]
        kept = session.model_copy(update={"chat": chat, "picked": None})
        return Picked(kept, chat, view.reference_image(ctx.catalogue, kept.dialogue, None))
    chosen = results[index]
    reply = (
        f"Picked {chosen.id} ({view.describe(chosen)}): say what to change, "
        "or press Send for more like it."
    )
    picked = session.model_copy(
        update={"picked": chosen.id, "chat": [*session.chat, _line("assistant", reply)]}
    )
    return Picked(
        picked, picked.chat, view.reference_image(ctx.catalogue, picked.dialogue, chosen.id)
    )


def undo(ctx: AppContext, session: Session) -> Update:
    """The dialogue exactly as before the last turn; the chat keeps the history and says so."""
    if not session.dialogue.undo_stack:
        reply = "Nothing to undo."
    else:
        reply = "Undone: back to the results before your last turn."
    dialogue = ctx.agent.undo(session.dialogue)
    chat = [*session.chat, _line("user", "Undo"), _line("assistant", reply)]
    return render(ctx, Session(dialogue=dialogue, chat=chat))


def reset(ctx: AppContext, session: Session) -> Update:
    """A new dialogue (same composition model) and an empty chat."""
    return render(ctx, Session(dialogue=ctx.agent.reset(session.dialogue)))
