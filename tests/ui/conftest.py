"""App fixtures: an Agent over the small gallery, and the app served on localhost."""

from __future__ import annotations

import pytest

from agent.agent import Agent
from agent.other_colours import LazyInstance
from eval.bench.app import free_port
from retrieval.indexing.gallery import Gallery
from retrieval.instance.descriptors import HeadDescriptorEncoder
from retrieval.instance.query import ExpansionSettings
from retrieval.instance.store import build_instance
from ui.handlers import AppContext


@pytest.fixture(scope="session")
def app_agent(small_gallery, trained_encoder, tmp_path_factory):
    """(agent, catalogue) over the 1,000-item gallery, as the app's factory would build them
    (its instance index, for "other colours", opened on first use)."""
    catalogue, index = small_gallery
    folder = tmp_path_factory.mktemp("app-index")
    index.save(folder)

    def open_instance():
        encoder = HeadDescriptorEncoder(trained_encoder)
        return build_instance(folder, catalogue, encoder, ExpansionSettings(dba=False), False)

    agent = Agent(
        Gallery.in_memory(trained_encoder, index, catalogue=catalogue),
        composer="sum",
        image_loader=lambda item_id: catalogue.render([catalogue.index_of(item_id)])[0],
        instance=LazyInstance(open_instance),
    )
    return agent, catalogue


@pytest.fixture
def ctx(app_agent) -> AppContext:
    return AppContext(app_agent[0])


@pytest.fixture(scope="session")
def app_url(app_agent):
    """The app served on 127.0.0.1 in this process; closed after the session."""
    from ui.app import build_app, launch

    demo = build_app(app_agent[0], concurrency=4)
    launch(
        demo,
        server_name="127.0.0.1",
        server_port=free_port(),
        prevent_thread_lock=True,
        quiet=True,
    )
    yield demo.local_url.rstrip("/")
    demo.close()
