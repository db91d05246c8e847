"""Hugging Face Space entry point: the circhat chat app, configured by environment variables.

CIRCHAT_MODEL (default fashion-mini; e.g. open_clip:ViT-B-32/laion2b_s34b_b79k where the
Space has network), CIRCHAT_COMPOSER (default: the CLI's), CIRCHAT_CATALOGUE (default
fmnist-color, or a folder of the shop's photos), CIRCHAT_METADATA (its metadata file),
CIRCHAT_INDEX (an index folder), CIRCHAT_REWRITER (default rules).
The host and port come from Gradio's own GRADIO_SERVER_NAME / GRADIO_SERVER_PORT.
A model or catalogue that cannot be loaded ends the app with one line saying which and why.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    from agent.factory import build_agent
    from retrieval.catalogues import CatalogueRef
    from retrieval.compose import DEFAULT_COMPOSER
    from retrieval.encoders import HubUnavailableError
    from ui.app import build_app, launch

    env = os.environ.get
    model = env("CIRCHAT_MODEL") or "fashion-mini"
    try:
        agent = build_agent(
            model,
            CatalogueRef.parse(
                env("CIRCHAT_CATALOGUE") or "fmnist-color", env("CIRCHAT_METADATA") or None
            ),
            env("CIRCHAT_INDEX") or None,
            env("CIRCHAT_COMPOSER") or DEFAULT_COMPOSER,
            env("CIRCHAT_REWRITER") or "rules",
        )
    except (HubUnavailableError, ValueError, FileNotFoundError, KeyError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"circhat: error: {message} (CIRCHAT_MODEL={model})", file=sys.stderr)
        return 2
    launch(build_app(agent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
