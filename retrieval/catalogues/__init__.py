"""Catalogues: the rendered Fashion-MNIST garments, or a folder of the shop's own photos."""

from __future__ import annotations

from pathlib import Path

from retrieval.catalogues.base import (
    Catalogue,
    CatalogueBase,
    FirstItems,
    Item,
    LoadedImage,
    Subset,
)
from retrieval.catalogues.folder import FolderCatalogue
from retrieval.catalogues.images import decode_image
from retrieval.catalogues.rendered import (
    FmnistColorCatalogue,
    FmnistVariantsCatalogue,
    RenderedFashionMnist,
    parse_count,
)
from retrieval.catalogues.schema import CatalogueSchema

BUILT_IN = ("fmnist-color", "fmnist-color-variants")


def open_catalogue(spec: str, metadata: str | Path | None = None, seed: int = 0) -> Catalogue:
    """'fmnist-color' / 'fmnist-color:train', 'fmnist-color-variants:N', or a folder path
    (with `metadata` naming its metadata file where it is not metadata.csv/.jsonl)."""
    if spec.startswith("fmnist-color-variants"):
        count = spec.split(":", 1)[1] if ":" in spec else ""
        return FmnistVariantsCatalogue(parse_count(count) if count else None, seed=seed)
    if spec.startswith("fmnist-color"):
        split = spec.split(":", 1)[1] if ":" in spec else "test"
        return FmnistColorCatalogue(split=split, seed=seed)
    return FolderCatalogue(spec, metadata)


__all__ = [
    "BUILT_IN",
    "Catalogue",
    "CatalogueBase",
    "CatalogueSchema",
    "FirstItems",
    "FmnistColorCatalogue",
    "FmnistVariantsCatalogue",
    "FolderCatalogue",
    "Item",
    "LoadedImage",
    "RenderedFashionMnist",
    "Subset",
    "decode_image",
    "open_catalogue",
]
