"""open_clip back end: `open_clip:<arch>/<hub tag>` or `open_clip:<arch>/<path.safetensors>`."""

from __future__ import annotations

from pathlib import Path

import torch

from retrieval.encoders.base import Encoder, ImageInput, pick_device, to_pil
from retrieval.encoders.errors import HubUnavailableError
from retrieval.encoders.hub import offline_unless_reachable

LOCAL_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


def _register_local_config(arch: str, weights: Path) -> None:
    """Make an architecture JSON beside the weights (`<arch>.json`) known to open_clip."""
    import open_clip

    config = weights.parent / f"{arch}.json"
    if arch not in open_clip.list_models() and config.exists():
        open_clip.add_model_config(config)


class OpenClipEncoder(Encoder):
    def __init__(self, spec: str, device: str | None = None):
        import open_clip

        arch, _, pretrained = spec.partition("/")
        self.model_id = f"open_clip:{spec}"
        self.device = pick_device(device)
        precision = "fp16" if self.device.type == "cuda" else "fp32"
        is_local = pretrained.endswith(LOCAL_SUFFIXES)
        if is_local:
            weights = Path(pretrained)
            if not weights.exists():
                raise FileNotFoundError(f"open_clip weights {weights} not found")
            _register_local_config(arch, weights)
            self.fingerprint = (
                f"{self.model_id}:{weights.stat().st_size}:{weights.stat().st_mtime_ns}"
            )
        else:
            self.fingerprint = self.model_id
        if arch not in open_clip.list_models():
            raise ValueError(
                f"unknown open_clip architecture {arch!r}: pick one of open_clip.list_models() "
                f"or put {arch}.json beside the weights file"
            )
        if not is_local:
            offline_unless_reachable(self.model_id)
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(
                arch, pretrained=pretrained or None, precision=precision, device=self.device
            )
        except (OSError, RuntimeError) as err:
            if is_local:
                raise
            raise HubUnavailableError(
                f"could not fetch open_clip weights {arch}/{pretrained} ({type(err).__name__}): "
                f"check the network, or pass a local file as open_clip:{arch}/PATH.safetensors"
            ) from None
        self.model = model.eval()
        self.preprocess = preprocess
        self.tokenizer = open_clip.get_tokenizer(arch)
        self.dim = int(open_clip.get_model_config(arch)["embed_dim"])

    def _images(self, images: list[ImageInput]) -> torch.Tensor:
        pixels = torch.stack([self.preprocess(to_pil(image)) for image in images])
        return self.model.encode_image(pixels.to(self.device, self.dtype))

    def _texts(self, texts: list[str]) -> torch.Tensor:
        return self.model.encode_text(self.tokenizer(texts).to(self.device))

    # --- hooks for composition models (pic2word) ---

    @property
    def word_dim(self) -> int:
        return int(self.model.token_embedding.embedding_dim)

    def encode_with_pseudo_words(
        self, templates: list[str], pseudo: torch.Tensor, placeholder: str = "*"
    ) -> torch.Tensor:
        """(B, D) text features with the placeholder token's embedding replaced by pseudo[b]."""
        model = self.model
        tokens = self.tokenizer(templates).to(self.device)  # (B, T)
        placeholder_id = int(self.tokenizer([placeholder])[0, 1])
        slots = tokens == placeholder_id
        if not bool(slots.any(1).all()):
            raise ValueError(f"every template needs the placeholder {placeholder!r}")
        x = model.token_embedding(tokens)  # (B, T, W)
        x = torch.where(slots[..., None], pseudo[:, None, :].to(x.dtype), x)
        x = x + model.positional_embedding.to(x.dtype)
        x = model.transformer(x, attn_mask=model.attn_mask)
        x = model.ln_final(x)
        pooled = x[torch.arange(x.shape[0]), tokens.argmax(dim=-1)]  # end-of-text token
        return pooled @ model.text_projection
