"""The circhat chat app: a Gradio Blocks page over one shared, read-only Agent, for any
catalogue (its filters, examples and product cards come from the catalogue's schema).

Per-browser state is a `handlers.Session` in `gr.State` (a deep-copyable pydantic model);
the agent, its encoder and index are loaded once and only read. Handlers live in
`ui/handlers.py`, what they show in `ui/view.py`. Result images are files rendered once
(`ui/thumbnails.py`) and served as static files, so a turn sends URLs, not pictures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import gradio as gr

from retrieval.catalogues import CatalogueRef
from retrieval.compose import list_models
from ui import CONCURRENCY, view
from ui.events import Events
from ui.handlers import AppContext
from ui.ordering import ANSWERED, STAMP, SessionOrder
from ui.readiness import REFRESH_S, Readiness, colours_button, prepare, refresh

TITLE = "circhat: chat with a catalogue"
# product cards show their text in full, under the image, line by line
CSS = """
#results .grid-container { padding-top: 1.75rem; }
#results .thumbnail-item { aspect-ratio: auto; height: auto; display: flex; flex-direction: column; }
#results .thumbnail-lg > img { aspect-ratio: 1 / 1; height: auto; }
#results .caption-label {
  position: static; white-space: pre-line; max-width: 100%; border: none; line-height: 1.25;
  text-align: left;
}
#chips button { flex: 0 1 auto; }
#chat img { max-height: 72px; width: auto; }
"""


def intro(catalogue) -> str:
    name = CatalogueRef.of(catalogue).display_name
    return (
        f"# circhat\nChatting with **{name}** ({len(catalogue):,} items). Say what you want, "
        "click a result to start from it, then say what to change, or click a suggestion. "
        "You can also upload a picture as the reference."
    )


def unselect() -> dict:
    """New results start with none of them highlighted as picked."""
    return gr.update(selected_index=None)


@dataclass
class Page:
    """The page's components that events read or write."""

    session: gr.State
    chatbot: gr.Chatbot
    chips: list[gr.Button]
    message: gr.Textbox
    send: gr.Button
    caption: gr.Textbox
    research: gr.Button
    undo: gr.Button
    reset: gr.Button
    none: gr.Button
    colours: gr.Button
    upload: gr.UploadButton
    sent: gr.Textbox  # hidden: the message whose turn ran (the box is emptied if it holds it)
    number: gr.Number  # hidden: the page's number of the event being sent (`STAMP`)
    gallery: gr.Gallery = None
    reference: gr.Image = None
    filters: list[gr.Dropdown] = field(default_factory=list)
    composer: gr.Dropdown = None
    details: gr.Markdown = None
    status: gr.Markdown = None  # ready, and whether other colours are

    def shown(self) -> list:
        """The outputs of every turn, in page_outputs' order."""
        head = [self.session, self.chatbot, self.gallery, self.caption, self.details]
        return [*head, self.reference, *self.filters, self.composer, self.sent, *self.chips]


def _chat_column(ctx: AppContext, readiness: Readiness, examples: list[str]) -> Page:
    session = gr.State(ctx.new_session())
    status = gr.Markdown(readiness.status_line(), elem_id="status")
    chatbot = gr.Chatbot(label="Chat", elem_id="chat", height=380, buttons=[])
    with gr.Row(elem_id="chips"):
        chips = [
            gr.Button(" ", size="sm", visible=False, elem_id=f"chip-{i}", min_width=60)
            for i in range(view.MAX_CHIPS)
        ]
    with gr.Row():
        message = gr.Textbox(
            placeholder="Describe what you are looking for",
            show_label=False,
            elem_id="message",
            scale=5,
            max_lines=4,
        )
        send = gr.Button("Send", variant="primary", elem_id="send", scale=1)
    gr.Examples([[e] for e in examples], inputs=[message], label="Try")
    with gr.Row():
        caption = gr.Textbox(
            label="Searched caption: edit it and search again", elem_id="caption", scale=4
        )
        research = gr.Button("Search with this caption", elem_id="research", scale=1)
    with gr.Row():
        undo = gr.Button("Undo", elem_id="undo", size="sm")
        reset = gr.Button("Reset", elem_id="reset", size="sm")
        none = gr.Button("None of these", elem_id="none", size="sm")
        colours = gr.Button(elem_id="other-colours", size="sm", **_button(readiness))
        upload = gr.UploadButton("Upload a reference", elem_id="upload", size="sm")
    sent = gr.Textbox(visible="hidden", elem_id="sent")
    number = gr.Number(0, visible="hidden", precision=0, elem_id="event-number")
    return Page(
        session,
        chatbot,
        chips,
        message,
        send,
        caption,
        research,
        undo,
        reset,
        none,
        colours,
        upload,
        sent,
        number,
        status=status,
    )


def _button(readiness: Readiness) -> dict:
    state = colours_button(readiness)
    return {"value": state["value"], "interactive": state["interactive"]}


def _results_column(ctx: AppContext, page: Page) -> None:
    agent, schema = ctx.agent, ctx.agent.schema
    page.gallery = gr.Gallery(
        label="Results: click one to start the next search from it",
        elem_id="results",
        columns=5,
        height="auto",
        allow_preview=False,
        object_fit="contain",
        buttons=[],
    )
    with gr.Row(equal_height=False):
        page.reference = gr.Image(
            label="Reference", elem_id="reference", interactive=False, height=220, buttons=[]
        )
        with gr.Column():
            empty = agent.new_state().constraints
            page.filters = [
                gr.Dropdown(
                    ctx.facets.choices(name, empty),
                    value=view.ANY,
                    label=schema.label(name),
                    elem_id=f"filter-{name}",
                )
                for name in ctx.filters
            ]
            page.composer = gr.Dropdown(
                list_models(),
                value=agent.default_composer,
                label="Composition model (next turn)",
                elem_id="composer",
            )
    page.details = gr.Markdown(view.details_markdown(agent, agent.new_state()), elem_id="details")


# after a turn, the box is emptied only if it still holds the message that turn ran: a
# message typed (or sent, and waiting for its turn) meanwhile stays where it is
CLEAR_IF_SENT = "(box, sent) => (sent && box === sent) ? '' : box"


def _numbered(event) -> None:
    """A numbered event (`STAMP`) tells the page when its outputs are applied, whether it
    succeeded or failed, so that the page's next event may go to the server (`ANSWERED`)."""
    for after in (event.success, event.failure):
        after(None, None, None, js=ANSWERED, api_visibility="private", trigger_mode="multiple")


def _turn_event(page: Page, triggers: list, fn, inputs: list, api_name: str) -> None:
    """One turn's event: every one runs, none is dropped while another is pending
    ("multiple"); the page numbers it and sends it once its earlier events are answered
    (`STAMP`, the last input), and it waits for its session's earlier events in SessionOrder,
    not in Gradio's queue; then the box is cleared if it still holds what was sent."""
    event = gr.on(
        triggers,
        fn,
        [*inputs, page.number],
        page.shown(),
        js=STAMP,
        api_name=api_name,
        trigger_mode="multiple",
        concurrency_limit=None,
    )
    _numbered(event)
    event.then(
        None,
        [page.message, page.sent],
        page.message,
        js=CLEAR_IF_SENT,
        api_visibility="private",
        show_progress="hidden",
        trigger_mode="multiple",
    ).then(
        unselect,
        None,
        page.gallery,
        api_visibility="private",
        show_progress="hidden",
        trigger_mode="multiple",
    )


def _wire(page: Page, events: Events) -> None:
    def turn(triggers: list, fn, inputs: list, api_name: str) -> None:
        _turn_event(page, triggers, fn, inputs, api_name)

    session, composer = page.session, page.composer
    turn(
        [page.send.click, page.message.submit],
        events.send,
        [page.message, session, composer],
        "send",
    )
    turn([page.research.click], events.caption, [page.caption, session, composer], "search_caption")
    turn([page.none.click], events.none, [session, composer], "none_of_these")
    turn([page.colours.click], events.colours, [session, composer], "other_colours")
    turn(
        [page.upload.upload],
        events.upload,
        [page.upload, page.message, session, composer],
        "upload",
    )
    turn([page.undo.click], events.undo, [session], "undo")
    turn([page.reset.click, page.chatbot.clear], events.reset, [session], "reset")  # the bin too
    turn(
        [f.input for f in page.filters],
        events.filter,
        [session, *page.filters, composer],
        "refilter",
    )
    for i, chip in enumerate(page.chips):
        turn([chip.click], events.chip(i), [session, composer], f"chip_{i}")
    pick = page.gallery.select(
        events.pick,
        [session, page.number],
        [session, page.chatbot, page.reference],
        js=STAMP,
        api_visibility="private",
        trigger_mode="multiple",
        concurrency_limit=None,
    )
    _numbered(pick)


def _wire_readiness(demo: gr.Blocks, page: Page, readiness: Readiness) -> None:
    """The "Other colours" button and the status line follow the instance index's status."""
    timer = gr.Timer(REFRESH_S, active=readiness.colours == "preparing")
    outputs = [page.colours, page.status, timer]
    for trigger in (demo.load, timer.tick):
        trigger(
            lambda: refresh(readiness),
            None,
            outputs,
            api_visibility="private",
            show_progress="hidden",
            concurrency_limit=None,
        )


def build_app(agent, concurrency: int = CONCURRENCY) -> gr.Blocks:
    """The app for an agent (and the catalogue of its gallery), warmed up before it is served (see
    ui/readiness.py); `concurrency` turns run at once, plus one for each LLM call the
    rewriter may have in flight (a turn waiting on the LLM holds a slot but no CPU, so the
    rule-based turns keep theirs). A browser session's events run one at a time, in order."""
    ctx = AppContext(agent)
    ctx.thumbnails.folder.mkdir(parents=True, exist_ok=True)
    gr.set_static_paths([ctx.thumbnails.folder])  # served as they are, cached by the browser
    examples = view.examples(agent.schema, agent.gallery.table)
    readiness = prepare(agent, examples)
    order = SessionOrder(concurrency + agent.rewriter.llm_slots)
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown(intro(ctx.catalogue))
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=360):
                page = _chat_column(ctx, readiness, examples)
            with gr.Column(scale=3, min_width=420):
                _results_column(ctx, page)
        _wire(page, Events(ctx, order))
        _wire_readiness(demo, page, readiness)
    demo.queue(default_concurrency_limit=concurrency + agent.rewriter.llm_slots)
    return demo


def launch(demo: gr.Blocks, **kwargs):
    """`demo.launch` with the app's style sheet; kwargs go to Gradio (server_name, ...)."""
    return demo.launch(css=CSS, **kwargs)
