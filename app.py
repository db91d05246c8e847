"""Hugging Face Space entry point: the circhat chat app, configured by environment variables.

CIRCHAT_MODEL (default fashion-mini; e.g. open_clip:ViT-B-32/laion2b_s34b_b79k where the
Space has network), CIRCHAT_COMPOSER (default: the CLI's), CIRCHAT_CATALOGUE (default
fmnist-color), CIRCHAT_INDEX (an index folder), CIRCHAT_REWRITER (default rules).
The host and port come from Gradio's own GRADIO_SERVER_NAME / GRADIO_SERVER_PORT.
"""

from __future__ import annotations

import os


def main() -> None:
    from agent.factory import build_agent
    from retrieval.compose import DEFAULT_COMPOSER
    from ui.app import build_app, launch

    env = os.environ.get
    agent, catalogue = build_agent(
        env("CIRCHAT_MODEL") or "fashion-mini",
        env("CIRCHAT_CATALOGUE") or "fmnist-color",
        env("CIRCHAT_INDEX") or None,
        env("CIRCHAT_COMPOSER") or DEFAULT_COMPOSER,
        env("CIRCHAT_REWRITER") or "rules",
    )
    launch(build_app(agent, catalogue))


if __name__ == "__main__":
    main()
