"""The circhat chat app: a Gradio Blocks page over one shared, read-only Agent.

Per-browser state is a `handlers.Session` in `gr.State` (a deep-copyable pydantic model);
the agent, its encoder and index are loaded once and only read. Handlers live in
`ui/handlers.py`, what they show in `ui/view.py`.
"""

from __future__ import annotations

import gradio as gr

from retrieval.compose import list_models
from ui import handlers, view
from ui.handlers import AppContext, Session

TITLE = "circhat: chat with a catalogue"
INTRO = (
    "# circhat\n"
    "Describe what you want, click a result to start from it, then say what to change "
    "(*same but in blue*, *with stripes*). Or upload a picture as the reference."
)
EXAMPLES = [["a red dress"], ["with stripes"]]
# results show their caption ("why it matched") in full, under the image, not over it
CSS = """
#results .grid-container { padding-top: 1.75rem; }
#results .thumbnail-item { aspect-ratio: auto; height: auto; display: flex; flex-direction: column; }
#results .thumbnail-lg > img { aspect-ratio: 1 / 1; height: auto; }
#results .caption-label {
  position: static; white-space: normal; max-width: 100%; border: none; line-height: 1.25;
}
"""


def unselect() -> gr.Gallery:
    """New results start with none of them highlighted as picked."""
    return gr.Gallery(selected_index=None)


def build_app(agent, catalogue, concurrency: int = 4) -> gr.Blocks:
    """The app for an agent and its catalogue; `concurrency` turns run at once."""
    ctx = AppContext(agent, catalogue)

    def on_send(session: Session, text: str, category: str, composer: str):
        return handlers.send(ctx, session, text, category, composer)

    def on_caption(session: Session, caption: str, category: str, composer: str):
        return handlers.search_caption(ctx, session, caption, category, composer)

    def on_none(session: Session, category: str, composer: str):
        return handlers.none_of_these(ctx, session, category, composer)

    def on_upload(session: Session, file: str, text: str, category: str, composer: str):
        return handlers.upload(ctx, session, file, text, category, composer)

    def on_pick(session: Session, evt: gr.SelectData):
        return handlers.pick(ctx, session, evt.index)

    def on_undo(session: Session):
        return handlers.undo(ctx, session)

    def on_reset(session: Session):
        return handlers.reset(ctx, session)

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        session = gr.State(ctx.new_session())
        gr.Markdown(INTRO)
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=360):
                chatbot = gr.Chatbot(label="Chat", elem_id="chat", height=380, buttons=[])
                with gr.Row():
                    message = gr.Textbox(
                        placeholder="e.g. a red dress, then: with stripes",
                        show_label=False,
                        elem_id="message",
                        scale=5,
                        max_lines=4,
                    )
                    send = gr.Button("Send", variant="primary", elem_id="send", scale=1)
                gr.Examples(EXAMPLES, inputs=[message], label="Try")
                with gr.Row():
                    caption = gr.Textbox(
                        label="Searched caption: edit it and search again",
                        elem_id="caption",
                        scale=4,
                    )
                    research = gr.Button("Search with this caption", elem_id="research", scale=1)
                with gr.Row():
                    undo = gr.Button("Undo", elem_id="undo", size="sm")
                    reset = gr.Button("Reset", elem_id="reset", size="sm")
                    none = gr.Button("None of these", elem_id="none", size="sm")
                    upload = gr.UploadButton("Upload a reference", elem_id="upload", size="sm")
            with gr.Column(scale=3, min_width=420):
                gallery = gr.Gallery(
                    label="Results: click one to start the next search from it",
                    elem_id="results",
                    columns=5,
                    height="auto",
                    allow_preview=False,
                    object_fit="contain",
                    format="png",
                    buttons=[],
                )
                with gr.Row(equal_height=False):
                    reference = gr.Image(
                        label="Reference",
                        elem_id="reference",
                        interactive=False,
                        height=200,
                        buttons=[],
                    )
                    with gr.Column():
                        categories = ctx.categories()  # none for a catalogue without them
                        category = gr.Dropdown(
                            categories,
                            value=view.ANY_CATEGORY,
                            label="Category",
                            elem_id="category",
                            visible=len(categories) > 1,
                        )
                        composer = gr.Dropdown(
                            list_models(),
                            value=agent.default_composer,
                            label="Composition model (next turn)",
                            elem_id="composer",
                        )
                details = gr.Markdown(
                    view.details_markdown(agent, agent.new_state()), elem_id="details"
                )

        shown = [
            session,
            chatbot,
            gallery,
            caption,
            details,
            reference,
            category,
            composer,
            message,
        ]
        settings = [category, composer]

        def turn(triggers: list, fn, inputs: list, api_name: str) -> None:
            gr.on(triggers, fn, inputs, shown, api_name=api_name).then(
                unselect, None, gallery, api_visibility="private", show_progress="hidden"
            )

        turn([send.click, message.submit], on_send, [session, message, *settings], "send")
        turn([research.click], on_caption, [session, caption, *settings], "search_caption")
        turn([none.click], on_none, [session, *settings], "none_of_these")
        turn([upload.upload], on_upload, [session, upload, message, *settings], "upload")
        turn([undo.click], on_undo, [session], "undo")
        turn([reset.click, chatbot.clear], on_reset, [session], "reset")  # the chat's bin too
        gallery.select(on_pick, [session], [session, chatbot, reference], api_visibility="private")
    demo.queue(default_concurrency_limit=concurrency)
    return demo


def launch(demo: gr.Blocks, **kwargs):
    """`demo.launch` with the app's style sheet; kwargs go to Gradio (server_name, ...)."""
    return demo.launch(css=CSS, **kwargs)
