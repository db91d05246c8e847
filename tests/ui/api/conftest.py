"""API fixtures: the app over the 1,000-item gallery, called through a real HTTP client."""

from __future__ import annotations

import pytest
from api_fixtures import make_client


@pytest.fixture
def client(app_agent, tmp_path):
    with make_client(app_agent, tmp_path) as client:
        yield client


@pytest.fixture
def session(client) -> str:
    answer = client.post("/v1/sessions")
    assert answer.status_code == 201
    return answer.json()["session_id"]
