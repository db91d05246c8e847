"""A LangChain chat model that runs a GGUF with transformers (no llama.cpp build;
unconstrained, so its answers are only validated). The grammar-constrained llama.cpp path is
llama_cpp.py beside it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr


class TransformersGGUFChat(BaseChatModel):
    """Greedy generation from a GGUF checkpoint loaded (dequantised) by transformers."""

    model_path: str
    max_new_tokens: int = 96
    timeout_s: float = 10.0  # generation stops at this many seconds (transformers' max_time)
    _model: Any = PrivateAttr(default=None)
    _tokenizer: Any = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "transformers-gguf"

    def _load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            from transformers import AutoModelForCausalLM, AutoTokenizer

            path = Path(self.model_path)
            self._tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
            self._model = AutoModelForCausalLM.from_pretrained(
                path.parent, gguf_file=path.name
            ).eval()

    def _prompt(self, messages: list[BaseMessage]) -> str:
        """The chat template's prompt: the system text joins the first user turn (templates
        such as Gemma's have no system role); a template-less model gets plain turns."""
        roles = {"human": "user", "ai": "assistant"}
        system = " ".join(m.content for m in messages if m.type == "system")
        chat = [{"role": roles.get(m.type, "user"), "content": m.content} for m in messages]
        chat = [c for c, m in zip(chat, messages) if m.type != "system"]
        if chat and system:
            chat[0] = {"role": "user", "content": f"{system}\n\n{chat[0]['content']}"}
        if getattr(self._tokenizer, "chat_template", None):
            return self._tokenizer.apply_chat_template(
                chat, tokenize=False, add_generation_prompt=True
            )
        turns = [
            f"{'Answer' if c['role'] == 'assistant' else 'Shopper'}: {c['content']}" for c in chat
        ]
        return "\n".join(turns) + "\nAnswer: "

    def _generate(
        self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs
    ) -> ChatResult:
        import torch

        self._load()
        inputs = self._tokenizer(self._prompt(messages), return_tensors="pt")
        with torch.inference_mode():
            output = self._model.generate(
                **inputs,
                max_new_tokens=self.max_new_tokens,
                max_time=self.timeout_s,
                do_sample=False,
            )
        text = self._tokenizer.decode(
            output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True
        )
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])
