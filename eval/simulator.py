"""A simulated shopper with a hidden target, speaking from a phrasebook."""

from __future__ import annotations

import numpy as np

from agent.agent import Turn
from agent.state import Chip, Offer, Result
from retrieval.training.phrasebook import Phrasebook

CLOSER_PHRASES = ("closer, more like this", "more like this one", "this is close")


class SimulatedShopper:
    """Looks at the shown results, picks the one closest to its target (attributes first, then
    the garment's visual similarity, from ground truth) and says what still differs."""

    def __init__(
        self,
        target: int,
        items: list,
        shapes: np.ndarray,
        phrasebook: Phrasebook,
        rng: np.random.Generator,
        max_changes: int = 2,
        attributes: list[str] | None = None,
        suggestion_use: float = 0.0,
        choice_rng: np.random.Generator | None = None,
    ):
        """`attributes`: those the shopper asks about, in order (default: the target's).
        `suggestion_use`: the chance that it clicks a chip that agrees with its target when
        the agent offers one (drawn from `choice_rng`, so that the dialogue's own draws are
        the same whatever the chance; never drawn at 0)."""
        if not 0.0 <= suggestion_use <= 1.0:
            raise ValueError(f"--suggestion-use must be between 0 and 1, not {suggestion_use}")
        self.suggestion_use, self.choice_rng = suggestion_use, choice_rng
        self.target, self.items, self.shapes = target, items, shapes
        self.phrasebook, self.rng, self.max_changes = phrasebook, rng, max_changes
        wanted = items[target].attributes
        names = attributes if attributes is not None else list(wanted)
        self.target_attributes = {a: wanted[a] for a in names if wanted.get(a)}
        self.positions = {item.id: i for i, item in enumerate(items)}

    def closeness(self, item_id: str) -> tuple[int, float]:
        row = self.positions[item_id]
        attributes = self.items[row].attributes
        same = sum(attributes.get(a) == v for a, v in self.target_attributes.items())
        return same, float(self.shapes[row] @ self.shapes[self.target])

    def differences(self, item_id: str) -> dict[str, str]:
        attributes = self.items[self.positions[item_id]].attributes
        return {a: v for a, v in self.target_attributes.items() if attributes.get(a) != v}

    def agreeing_chip(self, offer: Offer | None) -> Chip | None:
        """The offered chip that is true of the target (ground truth), if any: the answer to a
        question, or a suggestion worth clicking."""
        if offer is None:
            return None
        truth = self.items[self.target].attributes
        return next((c for c in offer.chips if truth.get(c.attribute) == c.value), None)

    def respond(self, shown: list[Result], offer: Offer | None = None) -> Turn:
        """Select the closest shown item and ask for one or two of the remaining differences;
        with chance `suggestion_use`, also click the offered chip that agrees with the target
        (the words then say the other differences)."""
        chip = self.agreeing_chip(offer) if self.suggestion_use > 0 else None
        if chip is not None and self.choice_rng.random() >= self.suggestion_use:
            chip = None
        best = max(shown, key=lambda r: self.closeness(r.id)).id
        diffs = self.differences(best)
        if chip is not None:
            diffs.pop(chip.attribute, None)
        choose = chip.constraint() if chip is not None else None
        if not diffs:
            text = "" if chip else CLOSER_PHRASES[self.rng.integers(len(CLOSER_PHRASES))]
            return Turn(select=best, text=text, choose=choose)
        names = [a for a in self.target_attributes if a in diffs]
        count = min(len(names), int(self.rng.integers(1, self.max_changes + 1)))
        chosen = sorted(self.rng.choice(len(names), count, replace=False))
        changes = {names[i]: diffs[names[i]] for i in chosen}
        return Turn(select=best, text=self.phrasebook.say(changes, self.rng), choose=choose)
