"""Optional LLM rewriting through any LangChain chat model, validated, cached, with fallback.

The shopper's text is passed as data inside delimiters; the answer must be one JSON object
that a pydantic schema accepts, with attribute values from the catalogue's vocabulary (for
local models a grammar built from that schema makes anything else impossible to sample).
Anything else (a timeout, an exception, garbage, an unknown value, too many calls at once)
falls back to the default rule rewriter, and the reason is recorded in the turn.
"""

from __future__ import annotations

from pathlib import Path

from agent.rewriters.ask import MAX_IN_FLIGHT, ChatReply, ValidatedChat
from agent.rewriters.base import Rewrite, source_key
from agent.rewriters.rules import RuleRewriter
from agent.state import Constraint
from retrieval.catalogues.schema import fmnist_schema


class LLMRewriter:
    """Rewrites with a LangChain chat model; falls back to `fallback` on any failure.
    Safe to call from several threads at once (at most `max_in_flight` model calls).

    `asked_about` picks the prompt's few-shot examples: a whole "message", or the "leftover"
    words of the rules (the hybrid's)."""

    def __init__(
        self,
        chat_model,
        fallback: RuleRewriter,
        model_key: str,
        timeout_s: float = 10.0,
        cache_dir: str | Path | None = None,
        caption: bool = True,
        max_in_flight: int = MAX_IN_FLIGHT,
        asked_about: str = "message",
    ):
        self.fallback, self.model_key = fallback, model_key
        self.name = f"llm:{model_key}"
        self.schema = fallback.schema or fmnist_schema()
        self.chat = ValidatedChat(
            chat_model,
            self.schema,
            model_key,
            timeout_s,
            cache_dir,
            caption,
            max_in_flight,
            asked_about,
        )

    @property
    def calls(self) -> int:
        """Model calls made (cache hits make none)."""
        return self.chat.calls

    @property
    def llm_slots(self) -> int:
        return self.chat.max_in_flight

    def warm_up(self) -> float:
        """Load the model and evaluate the fixed part of the prompt once, and warm the rules
        it falls back on (seconds)."""
        return self.fallback.warm_up() + self.chat.warm_up()

    def ask(self, words: str) -> ChatReply:
        """The model's validated answer for these words alone, without the rules' reading."""
        return self.chat.ask(words)

    def rewrite(self, text: str) -> Rewrite:
        rules = self.fallback.rewrite(text)
        reply = self.chat.ask(text)
        if reply.answer is None:
            sources = {source_key(c): "rules" for c in rules.constraints}
            return rules.model_copy(update={"fallback_reason": reply.reason, "sources": sources})
        constraints = [Constraint(**c.model_dump()) for c in reply.answer.constraints]
        required = [c.value for c in constraints if c.polarity == "require"]
        constraints += [c for c in rules.constraints if c.numeric]  # prices: read by the rules
        return rules.model_copy(
            update={
                "caption": " ".join(reply.answer.caption.split()) or ", ".join(required),
                "constraints": constraints,
                "rewriter": self.name,
                "unmapped": "",
                "sources": {
                    source_key(c): "rules" if c.numeric else self.name for c in constraints
                },
            }
        )
