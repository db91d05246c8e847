"""The locked environment: one resolution in three files (the dev lock, the app lock, the
Space's requirements.txt), every pin inside pyproject.toml's ranges, hashes on every pin."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+
from packaging.markers import Marker  # noqa: E402
from packaging.requirements import Requirement  # noqa: E402
from packaging.utils import canonicalize_name  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def pins(path: Path) -> dict[tuple[str, str], str]:
    """{(name, markers): version} of a lock or requirements file."""
    out = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            out[(canonicalize_name(match[1]), (match[3] or "").strip())] = match[2]
    return out


def here(locked: dict[tuple[str, str], str]) -> dict[str, str]:
    """The pins whose markers hold for this interpreter: {name: version}."""
    return {name: v for (name, m), v in locked.items() if not m or Marker(m).evaluate()}


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_pin_of_both_locks_has_a_hash():
    for name in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / name).read_text()
        entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
        assert entries and all(
            "--hash=sha256:" in e for e in entries if PIN.match(e.split("\n")[0])
        )


def test_the_app_lock_is_the_dev_lock_less_the_test_tools():
    """Markers may differ (the app's closure is smaller), the versions may not."""

    def versions(path: Path) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for (name, _), version in pins(path).items():
            out.setdefault(name, set()).add(version)
        return out

    app, dev = versions(ROOT / "requirements.lock"), versions(ROOT / "requirements-dev.lock")
    assert app and set(app) < set(dev)
    assert {name: v for name, v in app.items() if not v <= dev[name]} == {}


@pytest.mark.parametrize("extra", [None, "dev"])
def test_the_locked_versions_are_inside_pyproject_ranges(extra):
    project = pyproject()["project"]
    wanted = project["dependencies"] + (project["optional-dependencies"][extra] if extra else [])
    locked = here(pins(ROOT / ("requirements-dev.lock" if extra else "requirements.lock")))
    for line in wanted:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is in pyproject.toml but not locked: run `make lock`"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{name}=={locked[name]} is outside pyproject's {requirement.specifier}: `make lock`"
        )


def test_the_space_installs_the_app_lock_and_its_sdk_is_the_locked_gradio():
    app, space = pins(ROOT / "requirements.lock"), pins(ROOT / "requirements.txt")
    gradio = {key: v for key, v in app.items() if key[0] == "gradio"}
    assert space == {key: v for key, v in app.items() if key[0] != "gradio"}
    sdk = re.search(r"^sdk_version:\s*\"?([\d.]+)", (ROOT / "README.md").read_text(), re.M)
    assert sdk, "README.md's Space header names no sdk_version"
    assert list(gradio.values()) == [sdk.group(1)]


def test_the_installed_environment_is_the_lock():
    """What `make test` installed is what the dev lock says (a stale venv fails here)."""
    from importlib.metadata import distributions

    locked = here(pins(ROOT / "requirements-dev.lock"))
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in distributions()}
    if installed.get("circhat") is None:
        pytest.skip("circhat is not installed (run through `make test`)")
    differ = {n: (v, installed.get(n)) for n, v in locked.items() if installed.get(n) != v}
    assert differ == {}, "the environment differs from requirements-dev.lock: run `make install`"
