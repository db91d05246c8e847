"""Encoder back ends behind one API; `load_encoder(model_id)` picks one."""

from __future__ import annotations

from functools import lru_cache

from retrieval.encoders.base import Encoder
from retrieval.encoders.errors import HubUnavailableError

__all__ = ["DEFAULT_MODEL", "Encoder", "HubUnavailableError", "load_encoder"]

DEFAULT_MODEL = "fashion-mini"  # the embedded default: shipped weights, runs offline


@lru_cache(maxsize=4)
def load_encoder(model_id: str = DEFAULT_MODEL, device: str | None = None) -> Encoder:
    """Build (once per process) the encoder named by a model id.

    Model ids: `fashion-mini` (embedded default), `fashion-mini:<weights.safetensors>`,
    `photo:<folder>` (a photo encoder trained for a catalogue: `circhat train encoder`),
    `open_clip:<arch>/<hub tag or .safetensors path>`, `hf-clip:<folder or hub id>`.
    """
    kind, _, spec = model_id.partition(":")
    if kind == "fashion-mini":
        from retrieval.encoders.fashion_mini import FashionMiniEncoder

        return FashionMiniEncoder(spec or None, device)
    if kind == "open_clip" and spec:
        from retrieval.encoders.open_clip_encoder import OpenClipEncoder

        return OpenClipEncoder(spec, device)
    if kind == "photo" and spec:
        from retrieval.encoders.photo.model import PhotoEncoder

        return PhotoEncoder(spec, device)
    if kind == "hf-clip" and spec:
        from retrieval.encoders.hf_clip import HFClipEncoder

        return HFClipEncoder(spec, device)
    raise ValueError(
        f"unknown model id {model_id!r}: use fashion-mini, open_clip:<arch>/<pretrained>, "
        "hf-clip:<folder or hub id> or photo:<model folder>"
    )
