"""transformers back end: `hf-clip:<local folder or hub id>` (a CLIPModel checkpoint)."""

from __future__ import annotations

from pathlib import Path

import torch

from retrieval.encoders.base import Encoder, ImageInput, pick_device, to_pil
from retrieval.encoders.errors import HubUnavailableError
from retrieval.encoders.hub import offline_unless_reachable


def _features(output) -> torch.Tensor:
    """transformers >= 5 wraps projected features in a model output; older versions do not."""
    return output if isinstance(output, torch.Tensor) else output.pooler_output


class HFClipEncoder(Encoder):
    def __init__(self, spec: str, device: str | None = None):
        from transformers import AutoTokenizer, CLIPImageProcessor, CLIPModel

        self.model_id = f"hf-clip:{spec}"
        self.device = pick_device(device)
        local = Path(spec).exists()
        if not local:
            offline_unless_reachable(self.model_id)
        try:
            self.model = (
                CLIPModel.from_pretrained(spec, dtype=self.dtype, local_files_only=local)
                .to(self.device)
                .eval()
            )
            self.processor = CLIPImageProcessor.from_pretrained(spec, local_files_only=local)
            self.tokenizer = AutoTokenizer.from_pretrained(spec, local_files_only=local)
        except OSError as err:
            if local:
                raise ValueError(f"{spec}: not a CLIPModel folder ({err})") from None
            raise HubUnavailableError(
                f"could not fetch the transformers CLIP model {spec!r}: check the network, "
                "or save it with save_pretrained and pass the local folder"
            ) from None
        self.dim = int(self.model.config.projection_dim)
        self.fingerprint = self.model_id
        if local:
            stamp = max(p.stat().st_mtime_ns for p in Path(spec).iterdir())
            self.fingerprint = f"{self.model_id}:{stamp}"

    def _images(self, images: list[ImageInput]) -> torch.Tensor:
        pixels = self.processor([to_pil(image) for image in images], return_tensors="pt")
        pixels = pixels["pixel_values"].to(self.device, self.dtype)
        return _features(self.model.get_image_features(pixel_values=pixels))

    def _texts(self, texts: list[str]) -> torch.Tensor:
        tokens = self.tokenizer(
            texts, padding=True, truncation=True, max_length=77, return_tensors="pt"
        ).to(self.device)
        return _features(self.model.get_text_features(**tokens))
