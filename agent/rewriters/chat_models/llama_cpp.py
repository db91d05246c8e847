"""A local GGUF model run in-process by llama-cpp-python, as a LangChain chat model whose
output is constrained by a grammar built from the answer's JSON schema.

The grammar is built here (`agent.rewriters.answer.grammar_for`) and passed as `grammar=`, so a
schema the converter cannot handle raises instead of silently allowing any JSON. The answer
is streamed token by token, so a deadline stops the sampling itself: no thread is left
running. One model serves one call at a time (llama.cpp's context is not thread-safe);
other callers wait for it within their own deadline.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from agent.rewriters.answer import grammar_for

ROLES = {"system": "system", "human": "user", "ai": "assistant"}


class DeadlineExceeded(TimeoutError):
    """The model did not finish its answer within its time."""


def default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class LlamaCppChat(BaseChatModel):
    """Greedy (or sampled) chat completion from a GGUF file, constrained by the schema
    passed as `response_format={"type": "json_object", "schema": ...}`."""

    model_path: str
    timeout_s: float = 10.0
    max_tokens: int = 128
    temperature: float = 0.0  # 0: greedy
    top_k: int = 40  # llama.cpp's defaults for sampling at temperature > 0
    top_p: float = 0.95
    min_p: float = 0.05
    seed: int | None = None
    n_ctx: int = 4096
    n_threads: int = 0  # 0: up to 4 of the machine's cores
    _llama: Any = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)
    _load_lock: Any = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    def load(self) -> float:
        """Load the model once (seconds taken; 0 if it was loaded already)."""
        with self._load_lock:
            if self._llama is not None:
                return 0.0
            start = time.monotonic()
            # llama.cpp's OpenMP threads spin while they wait: on a shared 2-core machine that
            # makes a call 10-100x slower. PASSIVE must be set before the library loads.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            from llama_cpp import Llama

            threads = self.n_threads or default_threads()
            self._llama = Llama(
                model_path=self.model_path,
                n_ctx=self.n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
            )
            return time.monotonic() - start

    def _generate(
        self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs
    ) -> ChatResult:
        deadline = time.monotonic() + self.timeout_s
        self.load()
        response_format = kwargs.get("response_format") or {}
        grammar = grammar_for(response_format["schema"]) if "schema" in response_format else None
        if not self._lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise DeadlineExceeded(f"the local model stayed busy for {self.timeout_s:g} s")
        try:
            text, finish = self._complete(messages, grammar, deadline)
        finally:
            self._lock.release()
        message = AIMessage(content=text, response_metadata={"finish_reason": finish})
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _complete(self, messages: list[BaseMessage], grammar, deadline: float) -> tuple[str, str]:
        chunks = self._llama.create_chat_completion(
            messages=[{"role": ROLES.get(m.type, "user"), "content": m.content} for m in messages],
            grammar=grammar,
            temperature=self.temperature,
            top_k=self.top_k,
            top_p=self.top_p,
            min_p=self.min_p,
            seed=self.seed,
            max_tokens=self.max_tokens,
            stream=True,
        )
        parts, finish = [], None
        try:
            for chunk in chunks:
                choice = chunk["choices"][0]
                parts.append(choice["delta"].get("content") or "")
                finish = choice.get("finish_reason") or finish
                if time.monotonic() > deadline:
                    raise DeadlineExceeded(f"no answer within {self.timeout_s:g} s")
        finally:
            chunks.close()  # stops the sampling where it is
        return "".join(parts), finish or "stop"
