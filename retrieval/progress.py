"""Progress bars for long work (index builds, training, evaluation), on stderr.

One switch silences them all: `circhat --quiet` calls `set_quiet(True)`.
"""

from __future__ import annotations

import os
import sys

from tqdm import tqdm

_state = {"quiet": False}


def set_quiet(quiet: bool) -> None:
    """Silence (or restore) circhat's bars and those of the model libraries it loads."""
    _state["quiet"] = quiet
    if quiet:
        os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
        os.environ["TQDM_DISABLE"] = "1"  # libraries that import tqdm after this
        if "transformers" in sys.modules:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()


def bar(iterable=None, *, disable: bool = False, **kwargs) -> tqdm:
    """A tqdm bar, disabled when asked or when circhat is quiet."""
    return tqdm(iterable, disable=disable or _state["quiet"], **kwargs)
