"""Starting the app: `circhat app` and the Space's app.py build the agent and launch it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import agent.factory
import ui.app
from retrieval.compose import DEFAULT_COMPOSER
from ui.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def started(monkeypatch) -> dict:
    """Record what build_agent and launch were called with, instead of serving."""
    calls: dict = {}

    def fake_build_agent(*args, **kwargs):
        calls["build_agent"] = args
        return "agent", "catalogue"

    def fake_build_app(agent, catalogue, concurrency=4):
        calls["build_app"] = (agent, catalogue, concurrency)
        return "demo"

    monkeypatch.setattr(agent.factory, "build_agent", fake_build_agent)
    monkeypatch.setattr(ui.app, "build_app", fake_build_app)
    monkeypatch.setattr(ui.app, "launch", lambda demo, **kw: calls.setdefault("launch", kw))
    return calls


def test_app_verb_defaults():
    args = build_parser().parse_args(["app"])
    assert (args.host, args.port, args.model, args.catalogue) == (
        "127.0.0.1",
        7860,
        "fashion-mini",
        "fmnist-color",
    )
    assert (args.composer, args.index, args.rewriter) == (DEFAULT_COMPOSER, None, "rules")


def test_circhat_app_builds_the_agent_and_launches(started):
    code = main(["app", "--port", "7999", "--composer", "text-only", "--index", "/tmp/idx"])
    assert code == 0
    assert started["build_agent"] == (
        "fashion-mini",
        "fmnist-color",
        "/tmp/idx",
        "text-only",
        "rules",
    )
    assert started["build_app"] == ("agent", "catalogue", 4)
    assert started["launch"] == {"server_name": "127.0.0.1", "server_port": 7999}


def test_the_space_entry_reads_its_settings_from_the_environment(started, monkeypatch):
    monkeypatch.setenv("CIRCHAT_MODEL", "open_clip:ViT-B-32/laion2b_s34b_b79k")
    monkeypatch.setenv("CIRCHAT_COMPOSER", "image-only")
    for name in ("CIRCHAT_CATALOGUE", "CIRCHAT_INDEX", "CIRCHAT_REWRITER"):
        monkeypatch.delenv(name, raising=False)
    spec = importlib.util.spec_from_file_location("space_app", ROOT / "app.py")
    space = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(space)  # importing it starts nothing
    assert started == {}
    space.main()
    assert started["build_agent"] == (
        "open_clip:ViT-B-32/laion2b_s34b_b79k",
        "fmnist-color",
        None,
        "image-only",
        "rules",
    )
    assert started["launch"] == {}
