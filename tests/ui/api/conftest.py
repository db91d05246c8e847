"""API fixtures: the app over the 1,000-item gallery, called through a real HTTP client."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from ui.api.app import ServeConfig, create_app


def png_bytes(image: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(out, "PNG")
    return out.getvalue()


def make_client(app_agent, tmp_path, **config) -> TestClient:
    """A client of the API over the shared agent, its sessions in a fresh SQLite file."""
    agent, catalogue = app_agent
    config = ServeConfig(**({"store": f"sqlite:{tmp_path / 'sessions.db'}"} | config))
    return TestClient(create_app(config, agent, catalogue))


@pytest.fixture
def client(app_agent, tmp_path):
    with make_client(app_agent, tmp_path) as client:
        yield client


@pytest.fixture
def session(client) -> str:
    answer = client.post("/v1/sessions")
    assert answer.status_code == 201
    return answer.json()["session_id"]
