"""Starting the app: `circhat app` and the Space's app.py build the agent and launch it."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

import agent.factory
import retrieval.prepare
import ui.app
from retrieval.catalogues import CatalogueRef
from retrieval.compose import DEFAULT_COMPOSER
from retrieval.prepare import Prepared
from ui.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
AGENT = SimpleNamespace(gallery=SimpleNamespace(catalogue="catalogue"))  # what build_app gets


@pytest.fixture
def started(monkeypatch) -> dict:
    """Record what build_agent and launch were called with, instead of serving."""
    calls: dict = {}

    def fake_build_agent(*args, **kwargs):
        calls["build_agent"] = args
        return AGENT

    def fake_build_app(agent, concurrency=4):
        calls["build_app"] = (agent, concurrency)
        return "demo"

    def fake_prepare(ref, model, composer, index, say=None):
        calls["prepare"] = (ref, model, composer, index)
        return Prepared("fashion-mini")

    monkeypatch.setattr(agent.factory, "build_agent", fake_build_agent)
    monkeypatch.setattr(retrieval.prepare, "prepare", fake_prepare)
    monkeypatch.setattr(ui.app, "build_app", fake_build_app)
    monkeypatch.setattr(ui.app, "launch", lambda demo, **kw: calls.setdefault("launch", kw))
    return calls


def test_app_verb_defaults():
    args = build_parser().parse_args(["app"])
    assert (args.host, args.port, args.model, args.catalogue) == (
        "127.0.0.1",
        7860,
        "auto",
        "fmnist-color",
    )
    assert (args.composer, args.index, args.rewriter) == (DEFAULT_COMPOSER, None, "rules")


def test_circhat_app_builds_the_agent_and_launches(started):
    code = main(["app", "--port", "7999", "--composer", "text-only", "--index", "/tmp/idx"])
    assert code == 0
    assert started["prepare"] == (
        CatalogueRef.parse("fmnist-color"),
        "auto",
        "text-only",
        "/tmp/idx",
    )
    assert started["build_agent"] == (
        "fashion-mini",
        CatalogueRef.parse("fmnist-color"),
        "/tmp/idx",
        "text-only",
        "rules",
    )
    assert started["build_app"] == (AGENT, 4)
    assert started["launch"] == {"server_name": "127.0.0.1", "server_port": 7999}


def test_the_space_entry_reads_its_settings_from_the_environment(started, monkeypatch):
    monkeypatch.setenv("CIRCHAT_MODEL", "open_clip:ViT-B-32/laion2b_s34b_b79k")
    monkeypatch.setenv("CIRCHAT_COMPOSER", "image-only")
    for name in ("CIRCHAT_CATALOGUE", "CIRCHAT_INDEX", "CIRCHAT_REWRITER"):
        monkeypatch.delenv(name, raising=False)
    space = space_module()  # importing it starts nothing
    assert started == {}
    space.main()
    assert started["build_agent"] == (
        "open_clip:ViT-B-32/laion2b_s34b_b79k",
        CatalogueRef.parse("fmnist-color"),
        None,
        "image-only",
        "rules",
    )
    assert started["launch"] == {}


def space_module():
    spec = importlib.util.spec_from_file_location("space_app", ROOT / "app.py")
    space = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(space)
    return space


def test_the_space_says_in_one_line_when_its_hub_model_cannot_be_loaded(monkeypatch, capsys):
    """No network (the hub unreachable): one line naming the model, not a traceback after a
    minute of retries."""
    import socket

    def unreachable(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket, "create_connection", unreachable)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", str(ROOT / ".no-such-hf-home"))  # nothing cached
    monkeypatch.setenv("CIRCHAT_MODEL", "open_clip:ViT-B-32/laion2b_s34b_b79k")
    launched = []
    monkeypatch.setattr(ui.app, "launch", lambda *a, **k: launched.append(a))
    started = time.perf_counter()
    assert space_module().main() == 2
    assert time.perf_counter() - started < 30
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert err.startswith("circhat: error: could not fetch open_clip weights ViT-B-32")
    assert "CIRCHAT_MODEL=open_clip:ViT-B-32/laion2b_s34b_b79k" in err
    assert launched == []
