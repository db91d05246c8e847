"""`photo:DIR`: a catalogue's own photo encoder, a folder with its model card.

DIR holds `card.json` (what it is, what it was trained on, its figures), `head.safetensors`
(the layers between the frozen backbone and the frozen MiniLM text space, with the
standardisation of the descriptors) and `composers/` (composition models trained for it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, Field, field_validator
from torch import nn

from retrieval.catalogues.ref import CatalogueRef
from retrieval.checkpoint import SavedModule
from retrieval.encoders.base import Encoder, ImageInput, pick_device
from retrieval.encoders.minilm import MiniLMTextSide, MiniLMTextTower
from retrieval.encoders.photo.backbone import Backbone
from retrieval.encoders.photo.descriptors import Describer

CARD_FILE, HEAD_FILE = "card.json", "head.safetensors"


@dataclass(frozen=True)
class PhotoHeadConfig:
    in_dim: int
    hidden: int = 1024
    out_dim: int = 384
    dropout: float = 0.1


class PhotoHead(SavedModule, nn.Module):
    """Standardised descriptor -> MLP -> the text tower's space (L2-normalised); its record is
    the model card, with the config under `head`."""

    config_class = PhotoHeadConfig
    config_key = "head"

    def __init__(self, config: PhotoHeadConfig):
        super().__init__()
        self.config = config
        self.register_buffer("mean", torch.zeros(config.in_dim))
        self.register_buffer("std", torch.ones(config.in_dim))
        self.layers = nn.Sequential(
            nn.Dropout(config.dropout),
            nn.Linear(config.in_dim, config.hidden),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden, config.out_dim),
        )

    def forward(self, descriptors: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.layers((descriptors - self.mean) / self.std), dim=-1)  # (B, D)


class ModelCard(BaseModel):
    """What a photo model is, what it was trained on and how well it does."""

    backbone: str
    head: dict
    catalogue: CatalogueRef  # the folder and metadata it was trained on
    catalogue_fingerprint: str
    schema_: dict = Field(alias="schema")
    split: dict  # the rule and the counts of the train / test parts
    settings: dict = Field(default_factory=dict)
    figures: dict = Field(default_factory=dict)
    train_seconds: float = 0.0
    created_at: str = ""

    model_config = {"populate_by_name": True}

    @field_validator("catalogue", mode="before")
    @classmethod
    def _catalogue_ref(cls, value):
        return CatalogueRef.read(value)  # cards written before refs name it by a string


def save_model(folder: Path, head: PhotoHead, card: ModelCard) -> None:
    """The head's weights and the model card (its record) in `folder`."""
    card.head = asdict(head.config)
    head.save(folder / HEAD_FILE, card.model_dump(mode="json", by_alias=True), folder / CARD_FILE)


def read_card(folder: Path) -> ModelCard:
    path = Path(folder) / CARD_FILE
    if not path.exists():
        raise FileNotFoundError(
            f"no photo model at {folder} (no {CARD_FILE}): train one with "
            f"`circhat train encoder --catalogue FOLDER --out {folder}`"
        )
    return ModelCard.model_validate_json(path.read_text())


class PhotoEncoder(MiniLMTextSide, Encoder):
    """A frozen backbone's descriptors through a trained head, beside the frozen MiniLM tower."""

    def __init__(self, folder: str | Path, device: str | None = None):
        self.folder = Path(folder)
        self.card = read_card(self.folder)
        self.device = pick_device(device)
        self.describer = Describer(Backbone(self.card.backbone, str(self.device)))
        self.head, _ = PhotoHead.load(self.folder / HEAD_FILE, self.folder / CARD_FILE)
        self.head.to(self.device)
        self.text_tower = MiniLMTextTower().to(self.device, self.dtype)
        self.dim = self.head.config.out_dim
        self.model_id = f"photo:{self.folder}"
        weights = hashlib.sha256((self.folder / HEAD_FILE).read_bytes()).hexdigest()[:12]
        self.fingerprint = f"photo-{self.describer.fingerprint}-{weights}"
        self.batch_size = 64
        self.composer_dir = self.folder / "composers"

    def _images(self, images: list[ImageInput]) -> torch.Tensor:
        arrays = [np.asarray(i.convert("RGB") if hasattr(i, "convert") else i) for i in images]
        descriptors = torch.from_numpy(self.describer.describe(arrays)).to(self.device)
        return self.head(descriptors)

    @property
    def feature_widths(self) -> tuple[int, ...]:
        return self.describer.backbone.spec.channels

    def feature_maps(self, images: list[ImageInput]) -> list[torch.Tensor]:
        """The backbone's maps [(B, C, h, w)]: the tapped stages and the head."""
        arrays = [np.asarray(i.convert("RGB") if hasattr(i, "convert") else i) for i in images]
        return [torch.from_numpy(m) for m in self.describer.backbone.maps(arrays)]


def model_summary(folder: Path) -> str:
    card = read_card(folder)
    return json.dumps({"backbone": card.backbone, "catalogue": card.catalogue.name, **card.figures})
