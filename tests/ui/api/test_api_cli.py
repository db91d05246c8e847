"""`circhat serve`'s own flags: a key's digest line, and bad stores or key files refused in
one line before anything is loaded."""

from __future__ import annotations

import pytest

from ui.api.limits import ApiKeys
from ui.cli import main

pytestmark = pytest.mark.usefixtures("restore_logging")


def test_hash_key_prints_a_line_the_keys_file_accepts(capsys, tmp_path):
    assert main(["serve", "--hash-key", "my-storefront-key"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("sha256:") and "my-storefront-key" not in line
    (tmp_path / "keys").write_text(line + " storefront\n")
    assert ApiKeys.read(tmp_path / "keys").name_of("my-storefront-key") == "storefront"


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--store", "postgres://db"], "--store 'postgres://db': use sqlite:PATH or redis://"),
        (["--api-keys", "/no/such/keys"], "--api-keys /no/such/keys: no such file"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--replicas", "2"], "--replicas and --address serve on Ray: add --ray"),
        (["--ray", "--replicas", "0"], "--replicas must be at least 1"),
    ],
)
def test_bad_flags_are_one_line(capsys, tmp_path, flags, said):
    assert main(["serve", "--store", f"sqlite:{tmp_path / 's.db'}", *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert said in err and len(err.splitlines()) == 1


def test_an_unreachable_redis_and_a_missing_catalogue_are_one_line(capsys, tmp_path):
    pytest.importorskip("redis", reason="needs the redis client: pip install redis")
    from eval.bench.app import free_port

    store = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    assert main(["serve", "--store", store]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"circhat: error: --store {store}: cannot reach it")
    assert len(err.splitlines()) == 1
    missing = ["serve", "--store", f"sqlite:{tmp_path / 's.db'}", "--catalogue", "/no/shop"]
    assert main(missing) == 2
    assert "catalogue folder /no/shop does not exist" in capsys.readouterr().err


def test_replicas_on_several_machines_need_a_shared_store():
    from ui.api.app import ServeConfig
    from ui.api.ray_serve import check_store

    with pytest.raises(ValueError, match="the Ray cluster has 3 nodes; give --store redis://"):
        check_store(ServeConfig(store="sqlite:/tmp/s.db"), nodes=3)
    check_store(ServeConfig(store="sqlite:/tmp/s.db"), nodes=1)  # one machine: SQLite is shared
    check_store(ServeConfig(store="redis://10.0.0.5:6379/0"), nodes=3)
