"""Ask a chat model for a catalogue's answer: validated, cached, bounded in time and in calls.

Nothing here starts a thread. The chat model runs in the caller's thread and is expected to
honour its own deadline (the in-process llama.cpp model stops sampling, the HTTP client of
the OpenAI-compatible path cuts the connection); an answer that still arrives late is not
used for this turn. At most `max_in_flight` calls run at once; the others are answered at
once with the reason. Only answers that pass validation are cached, so a rejected answer is
asked again next time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import diskcache
from pydantic import BaseModel

from agent.rewriters.answer import parse_answer
from agent.rewriters.prompt import PROMPT_VERSION, build_messages, response_format
from retrieval.catalogues.schema import CatalogueSchema
from retrieval.paths import home

log = logging.getLogger(__name__)
MAX_IN_FLIGHT = 2
TIMEOUT_CLASSES = frozenset({"TimeoutError", "APITimeoutError", "TimeoutException"})


@dataclass(frozen=True)
class ChatReply:
    """What came of asking: a validated answer, or the reason there is none."""

    answer: BaseModel | None
    reason: str | None = None
    cached: bool = False
    seconds: float = 0.0


def _is_timeout(err: BaseException) -> bool:
    return any(c.__name__ in TIMEOUT_CLASSES for c in type(err).__mro__)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:120] if text else ""


def to_langchain(messages: list[dict]) -> list:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[m["role"]](m["content"]) for m in messages]


class ValidatedChat:
    """One chat model asked about one catalogue, its answers validated against the catalogue's
    schema and cached; safe to call from several threads."""

    def __init__(
        self,
        chat_model,
        schema: CatalogueSchema,
        model_key: str,
        timeout_s: float = 10.0,
        cache_dir: str | Path | None = None,
        caption: bool = True,
        max_in_flight: int = MAX_IN_FLIGHT,
        asked_about: str = "message",
    ):
        self.chat_model, self.schema, self.model_key = chat_model, schema, model_key
        self.asked_about = asked_about  # a whole "message" or the rules' "leftover" words
        self.timeout_s, self.caption, self.max_in_flight = timeout_s, caption, max_in_flight
        self.cache = diskcache.Cache(str(cache_dir or home() / "llm-cache"))
        self.response_format = response_format(schema, caption)
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._lock = threading.Lock()
        self._calls = 0
        self._prefix = json.dumps(
            [build_messages(schema, "", caption, asked_about)[:-1], self.response_format]
        )

    @property
    def calls(self) -> int:
        """Model calls made so far (cache hits make none)."""
        return self._calls

    def messages(self, text: str) -> list:
        return to_langchain(build_messages(self.schema, text, self.caption, self.asked_about))

    def cache_key(self, text: str) -> str:
        asked = f"{PROMPT_VERSION}|{self.model_key}|{self._prefix}|{text}"
        return hashlib.sha256(asked.encode()).hexdigest()

    def ask(self, text: str) -> ChatReply:
        """The validated answer for `text` (from the cache where it was asked before)."""
        cached = self.cache.get(self.cache_key(text))
        if cached is not None:
            try:
                return ChatReply(parse_answer(cached, self.schema), cached=True)
            except ValueError:
                self.cache.delete(self.cache_key(text))  # an older, stricter or looser schema
        if not self._slots.acquire(blocking=False):
            return ChatReply(None, f"LLM busy: {self.max_in_flight} calls already in flight")
        try:
            return self._call(text)
        finally:
            self._slots.release()

    def _call(self, text: str) -> ChatReply:
        with self._lock:
            self._calls += 1
        start = time.monotonic()
        try:
            message = self.chat_model.invoke(
                self.messages(text), response_format=self.response_format
            )
        except Exception as err:  # any failure of the endpoint or of the local model
            seconds = time.monotonic() - start
            if _is_timeout(err):
                return ChatReply(None, f"LLM timed out after {self.timeout_s:g} s", seconds=seconds)
            reason = f"LLM call failed: {type(err).__name__}: {_first_line(err)}".rstrip(": ")
            return ChatReply(None, reason, seconds=seconds)
        seconds = time.monotonic() - start
        content = message.content if hasattr(message, "content") else str(message)
        content = content if isinstance(content, str) else json.dumps(content)
        metadata = getattr(message, "response_metadata", None) or {}
        if metadata.get("finish_reason") == "length":
            return ChatReply(None, "LLM answer rejected: cut at its token limit", seconds=seconds)
        try:
            answer = parse_answer(content, self.schema)
        except ValueError as err:
            return ChatReply(None, f"LLM answer rejected: {err}", seconds=seconds)
        self.cache.set(self.cache_key(text), content)  # validated answers only
        if seconds > self.timeout_s:  # valid but late: kept for next time, not used now
            return ChatReply(None, f"LLM timed out after {self.timeout_s:g} s", seconds=seconds)
        return ChatReply(answer, seconds=seconds)

    def warm_up(self) -> float:
        """Load the model and evaluate the fixed prompt once (seconds taken); not cached."""
        start = time.monotonic()
        try:
            self.chat_model.invoke(self.messages("thanks"), response_format=self.response_format)
        except TimeoutError:
            pass  # the prompt was evaluated all the same: the next call starts warm
        except Exception as err:  # the first real call will fall back with the reason
            log.warning("warming up %s failed: %s", self.model_key, _first_line(err))
        return time.monotonic() - start
