"""Build an Agent for a catalogue and model: what the CLI, the app and the replay share."""

from __future__ import annotations

import logging
from pathlib import Path

from agent.agent import Agent, AgentConfig
from agent.other_colours import LazyInstance
from agent.rewriters import make_rewriter
from retrieval.catalogues import CatalogueRef
from retrieval.compose import DEFAULT_COMPOSER
from retrieval.encoders import DEFAULT_MODEL
from retrieval.indexing.gallery import open_gallery

log = logging.getLogger(__name__)


def build_agent(
    model_id: str = DEFAULT_MODEL,
    catalogue: CatalogueRef | None = None,
    index_dir: str | Path | None = None,
    composer: str = DEFAULT_COMPOSER,
    rewriter: str = "rules",
    config: AgentConfig | None = None,
    mmap: bool = False,
) -> Agent:
    """The agent over the gallery of a catalogue (default: fmnist-color), opened once: the
    catalogue, encoder, index, schema and attribute table are `agent.gallery`'s; the index is
    built first if it is missing. The catalogue's schema (its attributes, values and
    synonyms) drives the rewriter and filters. A ref with a part ('test') searches only that part
    (evaluation). With `mmap`, a saved index is memory-mapped where FAISS supports it (the
    processes of one machine share its pages)."""
    gallery = open_gallery(catalogue or CatalogueRef(), model_id, index_dir, mmap=mmap)
    items = gallery.catalogue

    def load_image(item_id: str):
        return items.load([items.index_of(item_id)])[0].image

    def open_instance():
        from retrieval.instance import open_instance_search

        return open_instance_search(gallery)

    chosen = make_rewriter(rewriter, gallery.encoder, gallery.schema, shop_words=gallery.shop_words)
    parts = {"config": config, "image_loader": load_image, "instance": LazyInstance(open_instance)}
    try:
        agent = Agent(gallery, composer, chosen, **parts)
    except FileNotFoundError as err:
        if composer != DEFAULT_COMPOSER:
            raise
        # the default's weights exist for fashion-mini only: other encoders start training-free
        log.warning("%s; using the training-free 'sum' for now", err)
        agent = Agent(gallery, "sum", chosen, **parts)
    return agent
