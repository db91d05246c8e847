"""Helpers the API tests import (a plain module: `from conftest import` would find another
test folder's conftest when the whole suite runs)."""

from __future__ import annotations

import io

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from ui.api.app import ServeConfig, create_app


def png_bytes(image: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(out, "PNG")
    return out.getvalue()


def make_client(app_agent, tmp_path, **config) -> TestClient:
    """A client of the API over the shared agent, its sessions in a fresh SQLite file."""
    config = ServeConfig(**({"store": f"sqlite:{tmp_path / 'sessions.db'}"} | config))
    return TestClient(create_app(config, app_agent[0]))
