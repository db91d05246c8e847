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


def catalogue_family(name: str) -> str:
    """The catalogue a name belongs to, without its split or sample: 'fmnist-color' for any
    rendered one, a folder catalogue's name without '[train]'."""
    if name.startswith("fmnist-color"):
        return "fmnist-color"
    return name.split("[", 1)[0]


def open_catalogue(
    spec: str, metadata: str | Path | None = None, seed: int = 0, part: str | None = None
) -> Catalogue:
    """'fmnist-color' / 'fmnist-color:train' / 'fmnist-color:test:N' (its first N items),
    'fmnist-color-variants:N', or a folder path
    (with `metadata` naming its metadata file where it is not metadata.csv/.jsonl); with
    `part`, the 'train' or 'test' part of it (split by id)."""
    if part is not None:
        from retrieval.catalogues.split import split

        return split(open_catalogue(spec, metadata, seed), part)
    if spec.startswith("fmnist-color-variants"):
        count = spec.split(":", 1)[1] if ":" in spec else ""
        return FmnistVariantsCatalogue(parse_count(count) if count else None, seed=seed)
    if spec.startswith("fmnist-color"):
        split, _, count = (spec.split(":", 1)[1] if ":" in spec else "test").partition(":")
        limit = parse_count(count) if count else None  # 'fmnist-color:test:1000': the first 1,000
        return FmnistColorCatalogue(split=split, seed=seed, limit=limit)
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
    "catalogue_family",
    "decode_image",
    "open_catalogue",
]
