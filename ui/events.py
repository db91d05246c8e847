"""The page's event functions: each runs one handler on the browser session's state, in the
order the page sent it (`ui/ordering.py`), and answers with the page's outputs."""

from __future__ import annotations

from collections.abc import Iterator

import gradio as gr

from ui import handlers
from ui.handlers import AppContext, Session, Update
from ui.ordering import SessionOrder


def page_outputs(update: Update) -> tuple:
    """An Update as the flat tuple of component values the events are wired to."""
    # plain update dicts: building a component per output costs more than the turn's search
    filters = [gr.update(choices=choices, value=value) for choices, value in update.filters]
    chips = [gr.update(value=label or " ", visible=bool(label)) for label in update.chips]
    return (
        update.session,
        update.chat,
        update.gallery,
        update.caption,
        update.details,
        gr.update(value=update.reference, label=update.reference_label),
        *filters,
        update.composer,
        update.sent,
        *chips,
    )


def _key(request: gr.Request | None) -> str | None:
    """The browser session an event came from (None when called without the page)."""
    return getattr(request, "session_hash", None) if request is not None else None


def _number(value) -> int | None:
    """The page's number of an event (its hidden input, set by `STAMP`); None when the
    caller left it out (an API client: its events run in the order they arrive)."""
    return int(value) if isinstance(value, int | float) and value > 0 else None


def _clicked_file(value) -> str:
    """The file name of the gallery image a select event reports (its path or URL)."""
    image = value.get("image", value) if isinstance(value, dict) else {}
    where = (image.get("path") or image.get("url") or "") if isinstance(image, dict) else ""
    return where.rsplit("/", 1)[-1]


class Events:
    """The page's event functions over one AppContext. A turn reads the composer from the
    page; the filters are the dialogue's own (a filter the shopper changes searches at once,
    through `filter`), so API clients may leave everything but the message out. Every event
    of a browser session runs in the order it was sent, on the session the last one left
    (`SessionOrder`)."""

    def __init__(self, ctx: AppContext, order: SessionOrder):
        self.ctx, self.order = ctx, order

    def _page(self, request, session: Session, number, act) -> Iterator[tuple]:
        """The page's outputs of `act`, yielded once: Gradio sends them before it resumes
        this generator, and only then may the session's next event start (`SessionOrder`).
        `number`: the page's number of this event (None from an API client)."""
        answers = self.order.answers(_key(request), session, act, number=_number(number))
        yield from map(page_outputs, answers)

    def send(self, text: str, session: Session, composer: str, number, request: gr.Request):
        ctx = self.ctx
        yield from self._page(
            request, session, number, lambda s: handlers.send(ctx, s, text, None, composer)
        )

    def caption(self, caption: str, session: Session, composer: str, number, request: gr.Request):
        ctx = self.ctx
        yield from self._page(
            request,
            session,
            number,
            lambda s: handlers.search_caption(ctx, s, caption, None, composer),
        )

    def none(self, session: Session, composer: str, number, request: gr.Request):
        ctx = self.ctx
        yield from self._page(
            request, session, number, lambda s: handlers.none_of_these(ctx, s, None, composer)
        )

    def colours(self, session: Session, composer: str, number, request: gr.Request):
        ctx = self.ctx
        yield from self._page(
            request, session, number, lambda s: handlers.other_colours(ctx, s, None, composer)
        )

    def filter(self, request: gr.Request, session: Session, *rest):
        filters, composer, number = list(rest[:-2]), rest[-2], rest[-1]
        ctx = self.ctx
        yield from self._page(
            request, session, number, lambda s: handlers.refilter(ctx, s, filters, composer)
        )

    def upload(
        self, file: str, text: str, session: Session, composer: str, number, request: gr.Request
    ):
        ctx = self.ctx
        yield from self._page(
            request, session, number, lambda s: handlers.upload(ctx, s, file, text, None, composer)
        )

    def pick(self, session: Session, number, evt: gr.SelectData, request: gr.Request):
        seen = _clicked_file(evt.value)
        for picked in self.order.answers(
            _key(request),
            session,
            lambda s: handlers.pick(self.ctx, s, evt.index, seen),
            computes=False,
            number=_number(number),
        ):
            image = gr.update(value=picked.reference, label=picked.reference_label)
            yield picked.session, picked.chat, image

    def chip(self, index: int):
        ctx = self.ctx

        def clicked(session: Session, composer: str, number, request: gr.Request):
            yield from self._page(
                request, session, number, lambda s: handlers.choose(ctx, s, index, None, composer)
            )

        return clicked

    def undo(self, session: Session, number, request: gr.Request):
        yield from self._page(request, session, number, lambda s: handlers.undo(self.ctx, s))

    def reset(self, session: Session, number, request: gr.Request):
        yield from self._page(request, session, number, lambda s: handlers.reset(self.ctx, s))
