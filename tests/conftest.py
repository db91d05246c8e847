"""Shared fixtures: tiny random-initialised models and small real galleries, loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.catalogues import FmnistColorCatalogue
from retrieval.catalogues.fashion_mnist import DatasetMissingError
from retrieval.encoders.fashion_mini import FashionMiniEncoder
from retrieval.encoders.image_tower import ImageTower, ImageTowerConfig
from retrieval.indexing.local import build_index


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test that needs a Fashion-MNIST split this machine lacks is skipped, and the summary
    says how to install it (the Debian package `make test` installs where it runs as root)."""
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is not None and call.excinfo.errisinstance(DatasetMissingError):
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, str(call.excinfo.value))


@pytest.fixture(autouse=True, scope="session")
def shared_backbones(tmp_path_factory):
    """The photo backbone's ONNX export is made once per test session, not once per test."""
    import os

    os.environ["CIRCHAT_BACKBONE_DIR"] = str(tmp_path_factory.mktemp("backbones"))


@pytest.fixture
def restore_logging():
    """The CLI's main() puts its own handler and level on the root logger: undo it after a
    test that runs it (`pytestmark = pytest.mark.usefixtures("restore_logging")`)."""
    import logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Every test writes indexes and caches under its own temporary CIRCHAT_HOME."""
    monkeypatch.setenv("CIRCHAT_HOME", str(tmp_path / "circhat-home"))
    return tmp_path / "circhat-home"


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory):
    """A random-initialised fashion-mini image tower saved like the real one."""
    import torch

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny") / "tiny-mini.safetensors"
    ImageTower(ImageTowerConfig(widths=(8, 8, 16, 16), embed_dim=384)).eval().save(
        path, {"train_seconds": 0}
    )
    return path


@pytest.fixture(scope="session")
def tiny_encoder(tiny_weights):
    return FashionMiniEncoder(tiny_weights, device="cpu")


@pytest.fixture(scope="session")
def trained_encoder():
    """The committed fashion-mini weights."""
    return FashionMiniEncoder(device="cpu")


@pytest.fixture(scope="session")
def small_gallery(trained_encoder):
    """The first 1,000 items of the fmnist-color test gallery, indexed with the trained model."""
    catalogue = FmnistColorCatalogue("test", limit=1000)
    return catalogue, build_index(catalogue, trained_encoder, progress=False)


CHROMIUM = Path("/usr/bin/chromium")
# offline and quiet: no sandbox (root in CI), no GPU, nothing fetched from outside
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser():
    """The system Chromium driven by Playwright (the browser tests: the app, the API's demo)."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: `apt-get install chromium` to run the browser test"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
