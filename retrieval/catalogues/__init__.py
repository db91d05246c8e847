"""Catalogues: the rendered Fashion-MNIST garments, or a folder of the shop's own photos;
`CatalogueRef` names one (`CatalogueRef.parse('fmnist-color').open()`)."""

from __future__ import annotations

from retrieval.catalogues.base import (
    Catalogue,
    CatalogueBase,
    Item,
    LoadedImage,
    Subset,
    first_items,
)
from retrieval.catalogues.folder import FolderCatalogue
from retrieval.catalogues.images import decode_image
from retrieval.catalogues.ref import CatalogueRef
from retrieval.catalogues.rendered import (
    FmnistColorCatalogue,
    FmnistVariantsCatalogue,
    RenderedFashionMnist,
)
from retrieval.catalogues.schema import CatalogueSchema

BUILT_IN = ("fmnist-color", "fmnist-color-variants")


__all__ = [
    "BUILT_IN",
    "Catalogue",
    "CatalogueBase",
    "CatalogueRef",
    "CatalogueSchema",
    "first_items",
    "FmnistColorCatalogue",
    "FmnistVariantsCatalogue",
    "FolderCatalogue",
    "Item",
    "LoadedImage",
    "RenderedFashionMnist",
    "Subset",
    "decode_image",
]
