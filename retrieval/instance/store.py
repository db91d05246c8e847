"""The instance index beside a main index: built by the same pipeline, checked on load.

`<main index>/instance/` holds a full index folder (index.faiss, vectors.npy, items.jsonl,
manifest.json) of the instance descriptors, the diffusion graph (knn-graph.npz) and
instance.json (descriptor, whitening, expansion settings, the main index's catalogue
fingerprint). GeM descriptors are PCA-whitened on the catalogue's own photos where it has more
photos than the descriptor has dimensions (retrieval/instance/whitening.py): queries are the
items' stored vectors, so the whitened vectors are all that is kept.
"""

from __future__ import annotations

import json
import logging
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from retrieval.catalogues.ref import CatalogueRef
from retrieval.encoders import Encoder
from retrieval.index import faiss_tools
from retrieval.index.search import SearchIndex
from retrieval.index.store import MANIFEST_FILE, SCRATCH_VECTORS, IndexMismatchError, Manifest
from retrieval.instance.diffusion import GRAPH_FILE, KnnGraph, knn_graph
from retrieval.instance.expansion import database_augmentation
from retrieval.instance.query import ExpansionSettings
from retrieval.instance.search import DBA_FILE, INSTANCE_DIR, SETTINGS_FILE, InstanceSearch
from retrieval.instance.whitening import pca_whitening

if TYPE_CHECKING:
    from retrieval.indexing.gallery import Gallery

log = logging.getLogger(__name__)


def descriptor_encoder(base: Encoder, name: str | None = None) -> Encoder:
    """The instance descriptor of an encoder: the trained head where it fits the encoder's
    tower (fashion-mini), else GeM of its feature maps, else its own embedding."""
    from retrieval.instance.descriptors import GemDescriptorEncoder, HeadDescriptorEncoder

    if name in (None, "head") and hasattr(base, "image_tower"):
        try:
            return HeadDescriptorEncoder(base)
        except (FileNotFoundError, ValueError) as err:
            if name == "head":
                raise
            log.info("instance head not used: %s", err)
    if name in (None, "gem") and hasattr(base, "feature_maps"):
        return GemDescriptorEncoder(base, (len(base.feature_widths) - 1,))  # its last map
    if name in (None, "embedding"):
        return base
    raise ValueError(
        f"descriptor {name!r} does not fit {base.model_id}: use head, gem or embedding"
    )


def _main_manifest(main_folder: Path) -> Manifest:
    path = main_folder / MANIFEST_FILE
    if not path.exists():
        raise FileNotFoundError(
            f"no index at {main_folder}: build one with `circhat index build --out {main_folder}`"
        )
    return Manifest.model_validate_json(path.read_text())


def build_instance(
    main_folder: str | Path,
    catalogue,
    encoder: Encoder,
    settings: ExpansionSettings | None = None,
    progress: bool = True,
) -> InstanceSearch:
    """Encode `catalogue` (the main index's) with the instance descriptor `encoder`, index it
    (Flat), build its k-NN graph and save all in `<main_folder>/instance`."""
    from retrieval.indexing.embedding_cache import EmbeddingCache
    from retrieval.indexing.local import build_index

    main_folder = Path(main_folder)
    main = _main_manifest(main_folder)
    if catalogue.fingerprint() != main.catalogue_fingerprint:
        raise IndexMismatchError(
            f"the catalogue `{CatalogueRef.of(catalogue).command_line()}` is not the one "
            f"indexed in {main_folder} (`{CatalogueRef.read(main.catalogue).command_line()}`): "
            "open the index of that catalogue"
        )
    settings = settings or ExpansionSettings()
    folder = main_folder / INSTANCE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    cache = EmbeddingCache()
    try:
        index = build_index(
            catalogue,
            encoder,
            "Flat",
            cache,
            progress=progress,
            vectors_path=folder / SCRATCH_VECTORS,
        )
    finally:
        cache.close()
    whitening = _whitening(encoder, len(index))
    if whitening:
        index = _whitened(index)
    index.save(folder)
    augmented = database_augmentation(index.vectors, settings.dba_k, settings.alpha)
    np.save(folder / DBA_FILE, augmented)
    searched = augmented if settings.dba else index.vectors
    graph = knn_graph(searched, settings.graph_k, settings.gamma, _graph_source(encoder, settings))
    graph.save(folder)
    search = InstanceSearch(index, graph, settings, encoder.model_id, augmented, whitening)
    search.save_settings(folder, main.catalogue_fingerprint)
    search.main_folder, search.encoder = main_folder, encoder
    return search


def _whitening(encoder: Encoder, items: int) -> str | None:
    """The whitening an instance index of `items` gets with `encoder`: "pca" for GeM
    descriptors where the catalogue has more photos than the descriptor has dimensions."""
    return "pca" if getattr(encoder, "whitens", False) and items > encoder.dim else None


def _whitened(index: SearchIndex) -> SearchIndex:
    """The index with its vectors PCA-whitened, the whitening learned on them."""
    vectors = pca_whitening(index.vectors).apply(index.vectors)
    if index.scratch_vectors is not None:  # the raw vectors' file of the build
        index.scratch_vectors.unlink(missing_ok=True)
    flat = faiss_tools.index_vectors(vectors, "Flat", len(vectors))
    return SearchIndex(flat, index.items, vectors, index.manifest, index.schema)


def _graph_source(encoder: Encoder, settings: ExpansionSettings) -> str:
    """What a graph was built from: the descriptor, and the DBA that made its vectors."""
    dba = f"-dba{settings.dba_k}a{settings.alpha:g}" if settings.dba else ""
    return f"{encoder.fingerprint}{dba}"


def _stored_settings(folder: Path) -> tuple[ExpansionSettings, dict]:
    info = json.loads((folder / SETTINGS_FILE).read_text())
    known = {f.name for f in fields(ExpansionSettings)}
    return ExpansionSettings(**{k: v for k, v in info["settings"].items() if k in known}), info


def load_instance(
    main_folder: Path, encoder: Encoder, settings: ExpansionSettings | None = None
) -> InstanceSearch:
    """The saved instance search of a main index; refuses one built for another catalogue,
    another descriptor or with a graph of other vectors."""
    folder = main_folder / INSTANCE_DIR
    rebuild = f"delete {folder}; it is rebuilt when the gallery is next opened for instance search"
    if not (folder / SETTINGS_FILE).exists():
        raise FileNotFoundError(f"no instance index at {folder}: {rebuild}")
    main = _main_manifest(main_folder)
    index = SearchIndex.load(folder, encoder)
    stored, info = _stored_settings(folder)
    if (
        index.manifest.catalogue_fingerprint != main.catalogue_fingerprint
        or info.get("main_catalogue_fingerprint") != main.catalogue_fingerprint
        or len(index) != main.count
    ):
        raise IndexMismatchError(
            f"instance index {folder} was built for another catalogue than {main_folder}: {rebuild}"
        )
    whitening = _whitening(encoder, len(index))
    if info.get("whitening") != whitening:
        raise IndexMismatchError(
            f"instance index {folder} was built without the whitening this version learns for "
            f"{encoder.model_id}: {rebuild}"
        )
    settings = settings or stored
    augmented = _augmented(folder, settings, stored, len(index))
    graph = KnnGraph.load(folder) if (folder / GRAPH_FILE).exists() else None
    if graph is not None and graph.affinity.shape[0] != len(index):
        raise IndexMismatchError(f"the k-NN graph in {folder} is of other vectors: {rebuild}")
    if graph is not None and graph.source != _graph_source(
        encoder, replace(stored, dba=settings.dba)
    ):
        graph = None  # built for the other vectors (with or without DBA): no diffusion
    search = InstanceSearch(
        index, graph, settings, info.get("descriptor", ""), augmented, whitening
    )
    search.main_folder, search.encoder = main_folder, encoder
    return search


def _augmented(folder: Path, settings: ExpansionSettings, stored: ExpansionSettings, rows: int):
    """The saved DBA vectors, memory-mapped, where `settings` ask for them and they match."""
    if not settings.dba or not (folder / DBA_FILE).exists():
        return None
    augmented = np.load(folder / DBA_FILE, mmap_mode="r")
    if len(augmented) != rows or (settings.dba_k, settings.alpha) != (stored.dba_k, stored.alpha):
        log.warning("the DBA vectors in %s are of other settings: searching without DBA", folder)
        return None
    return augmented


def open_instance_search(
    gallery: Gallery,
    descriptor: str | None = None,
    settings: ExpansionSettings | None = None,
) -> InstanceSearch:
    """The instance search of an opened gallery: its instance index loaded, or (re)built
    when missing or stale."""
    encoder = descriptor_encoder(gallery.encoder, descriptor)
    try:
        return load_instance(gallery.folder, encoder, settings)
    except (FileNotFoundError, IndexMismatchError) as err:
        log.info("building the instance index of %s (%s)", gallery.folder, err)
    return build_instance(gallery.folder, gallery.catalogue, encoder, settings)
