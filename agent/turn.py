"""What a shopper's turn is, its checks, the agent's settings, the error of a turn it cannot
carry out, and the observer of its search (evaluation)."""

from __future__ import annotations

from typing import Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict

from agent.rewriters.base import clean_message
from agent.state import Constraint, DialogueState


class TurnError(ValueError):
    """A turn that cannot be carried out; the message says why and what to do. State is kept."""


class AgentConfig(BaseModel):
    k: int = 10
    query_weight: float = 1.0  # Rocchio: the composed query ...
    # ... plus this much of the liked items' alpha-QE mean (chosen by replay with filters off,
    # 500 dialogues of seed 7, among 0, 0.1, 0.2, 0.3 and 0.5: eval/bench/instance.py) ...
    liked_weight: float = 0.1
    liked_alpha: float = 3.0  # ... each liked item weighted by its similarity^alpha ...
    rejected_weight: float = 0.3  # ... minus this much of the rejected items' mean
    exclude_shown: bool = True  # never show an item twice (unless nothing else is left)
    hard_constraints: bool = True  # values read from words filter (clicked ones always do)
    initiative: bool = True  # offer refinement chips and ask when a word is ambiguous
    text_search: bool = True  # words beyond the filters searched in the shop's titles too
    # the text ranking's weight in the fusion (the vectors': 1), chosen among 1, 2, 3 and 5 on
    # 28 brand requests of brands outside the held-out list (eval/text_probe.py): 0.83, 0.95,
    # 0.95, 0.95 precision@10 on fashion-products
    text_weight: float = 2.0


class Turn(BaseModel):
    """What the shopper did: any of text, a click on a shown result, an upload, 'none of these'."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    text: str = ""
    item: str | None = None  # start from any catalogue item (a product page, a gallery pick)
    select: str | None = None  # a click on one of the results just shown
    image: np.ndarray | None = None  # (H, W, 3) uint8 upload
    none_of_these: bool = False
    caption: str | None = None  # the shopper's edit of the rewritten caption
    choose: Constraint | None = None  # a suggestion or answer chip (with any words typed)
    refilter: bool = False  # search again under the state's constraints (a filter changed)
    shortened: str = ""  # set by cleaned(): the note saying the message was cut

    def cleaned(self) -> Turn:
        """This turn with its message cleaned (printable, single-spaced, bounded): the one
        place a turn's words are cleaned; the rewriters and the record take them as they are."""
        text, note = clean_message(self.text)
        return self.model_copy(update={"text": text, "shortened": note})

    @property
    def keeps_request(self) -> bool:
        """A chip or a filter with no words: the request's words stay, the chip's value is
        added to them and to the filters."""
        return (self.choose is not None or self.refilter) and not self.text.strip()


class TurnObserver(Protocol):
    """Watches the search of each turn without taking part in it (evaluation: the replay ranks
    its targets with one). `depth` asks the search to rank that many ids (0: the shown only)."""

    depth: int

    def on_search(
        self, state: DialogueState, query: np.ndarray, mask: np.ndarray, ranking: list[str]
    ) -> None:
        """After a turn's search: the state searched, the query (D,), the (N,) bool mask of
        the rows the search could return, and the ids of the top-`depth` ranking."""


def validate_turn(state: DialogueState, turn: Turn, positions: dict, schema) -> None:
    """Raise a TurnError saying what to do where `turn` cannot be carried out on `state`.

    Args:
        positions: the gallery's item ids (any container of them).
        schema: the catalogue's CatalogueSchema (a chip's value must be one of its values).
    """
    if turn.item is not None and turn.item not in positions:
        raise TurnError(f"item {turn.item!r} is not in the catalogue")
    if turn.select is not None and turn.select not in {r.id for r in state.last_results}:
        raise TurnError(f"item {turn.select!r} is not among the results shown: pick one of them")
    if turn.image is not None:
        image = np.asarray(turn.image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise TurnError("the upload is not an RGB image: upload a JPEG or PNG picture")
    if turn.choose is not None:
        _validate_choice(turn.choose, schema)
    has_text = bool(turn.text.strip()) or bool(turn.caption and turn.caption.strip())
    picked = turn.select or turn.item or turn.image is not None or turn.keeps_request
    if not (has_text or picked or turn.none_of_these):
        raise TurnError(
            "the message is empty: say what to change, pick a result or upload an image"
        )
    if not has_text and not picked and not state.turns:
        raise TurnError("nothing to refine yet: describe what you are looking for first")


def _validate_choice(choice: Constraint, schema) -> None:
    spec = schema.attributes.get(choice.attribute)
    if spec is None or choice.value not in spec.values:
        label = schema.label(choice.attribute).lower()
        raise TurnError(
            f"{choice.value!r} is no {label} of this catalogue: pick one of the suggestions"
        )
