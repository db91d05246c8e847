"""The app ready before its first shopper: every turn's path warmed at start, the instance
index ("other colours") opened or built in the background, and what the page says meanwhile.

`prepare` runs before the page is served (the server answers only once it returns, so the
first turn is as fast as the later ones); the "Other colours" button stays disabled, saying
why, until the background opening ends (`colours_button`, refreshed by a timer on the page).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import gradio as gr

COLOURS_LABELS = {
    "ready": "Other colours of the pick",
    "not started": "Other colours of the pick",  # opened on first use
    "preparing": "Other colours (getting ready…)",
    "unavailable": "Other colours (not available)",
    "none": "Other colours (not available)",
}
REFRESH_S = 2.0  # how often a page asks whether other colours are ready


@dataclass
class Readiness:
    """What the app has prepared: the warm-up's seconds and the instance index's status."""

    warmed_s: float
    instance: object | None  # agent.other_colours.LazyInstance, or None without one

    @property
    def colours(self) -> str:
        return self.instance.status if self.instance is not None else "none"

    def status_line(self) -> str:
        colours = {
            "preparing": "other colours are getting ready (the colour index is being built)",
            "unavailable": "other colours are not available for this catalogue",
            "none": "other colours are not available for this catalogue",
        }.get(self.colours, "other colours are ready")
        return f"Ready (warmed up in {self.warmed_s:.1f} s); {colours}."


def prepare(agent, messages: list[str]) -> Readiness:
    """Start opening the instance index in the background, then warm every turn's path with
    `messages` (the page's examples) while it builds, and what Gradio loads on its first
    event (matplotlib: about 0.5 s of a first turn otherwise)."""
    instance = getattr(agent.colours, "instance", None)
    if instance is not None:
        instance.start()
    started = time.perf_counter()
    with contextlib.suppress(ImportError), gr.utils.MatplotlibBackendMananger():
        pass  # imports matplotlib as every event of Gradio's does, once, now
    return Readiness(agent.warm_up(messages) + time.perf_counter() - started, instance)


def colours_button(readiness: Readiness) -> dict:
    """The "Other colours" button as the instance index's status allows."""
    status = readiness.colours
    usable = status in ("ready", "not started")
    return gr.update(value=COLOURS_LABELS[status], interactive=usable)


def refresh(readiness: Readiness):
    """(button, status line, timer) for a page: the timer stops once nothing is pending."""
    pending = readiness.colours == "preparing"
    return colours_button(readiness), readiness.status_line(), gr.Timer(active=pending)
