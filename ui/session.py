"""A shopper's session with the agent: the one adapter under the app (ui/handlers.py) and the
terminal chat (ui/chat.py).

`Conversation` applies every action they offer (a message, a pick, a chip, an upload, other
colours, a revised caption, undo, reset) to a DialogueState through the agent's turn, with
one undo step per turn, and words the reply. It holds no dialogue: the app keeps the state in
its `gr.State` record, the chat in its ChatSession, so the agent is shared read-only by all.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.agent import Agent, Turn
from agent.state import Chip, DialogueState, Result
from ui import replies

UNDONE = "Undone: back to the results before your last turn."
NOTHING_TO_UNDO = "Nothing to undo."


@dataclass(frozen=True)
class Conversation:
    """The actions of a session on its DialogueState; each returns the new state and the
    reply. `ready` is the state with the page's settings applied (composition model, filters;
    default: the state itself): the turn runs on it and undo goes back to `state`."""

    agent: Agent

    def new_state(self) -> DialogueState:
        return self.agent.new_state()

    def reply(self, state: DialogueState) -> str:
        return replies.reply(state, self.agent.schema)

    @staticmethod
    def shown(state: DialogueState, position: int) -> Result | None:
        """The `position`-th result shown (from 0), or None if there is no such result."""
        results = state.last_results
        return results[position] if 0 <= position < len(results) else None

    @staticmethod
    def chips(state: DialogueState) -> list[Chip]:
        """The suggestion or answer chips offered after the last turn."""
        offer = state.last_offer
        return list(offer.chips) if offer else []

    def chip(self, state: DialogueState, position: int) -> Chip | None:
        """The `position`-th chip (from 0), or None if there is no such chip."""
        chips = self.chips(state)
        return chips[position] if isinstance(position, int) and 0 <= position < len(chips) else None

    def turn(
        self, state: DialogueState, turn: Turn, ready: DialogueState | None = None
    ) -> tuple[DialogueState, str]:
        """A message, a pick, a chip, an upload, "none of these" or a filter change."""
        new, _ = self.agent.step(state if ready is None else ready, turn, before=state)
        return new, self.reply(new)

    def revise(self, state: DialogueState, caption: str) -> tuple[DialogueState, str]:
        """The last turn again with the shopper's edit of its caption, as that turn was (its
        composition model and filters); undo goes back to `state`."""
        new, _ = self.agent.revise(state, caption, before=state)
        return new, self.reply(new)

    def other_colours(
        self, state: DialogueState, item_id: str, ready: DialogueState | None = None
    ) -> tuple[DialogueState, str]:
        """`item_id` in other colours."""
        new, _ = self.agent.other_colours(state if ready is None else ready, item_id, state)
        return new, self.reply(new)

    def undo(self, state: DialogueState) -> tuple[DialogueState, str]:
        """The state exactly as before the last turn."""
        reply = UNDONE if state.undo_stack else NOTHING_TO_UNDO
        return self.agent.undo(state), reply

    def reset(self, state: DialogueState) -> DialogueState:
        """A new dialogue with the same composition model."""
        return self.agent.reset(state)
