import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from retrieval.threads import per_core_map


def test_per_core_map_keeps_order_and_runs_each_worker_on_one_torch_thread():
    before = torch.get_num_threads()
    seen = []

    def work(i):
        time.sleep(0.002 * (i % 3))  # finish out of order
        seen.append((threading.current_thread().name, torch.get_num_threads()))
        return i * i

    assert list(per_core_map(work, range(20), workers=2)) == [i * i for i in range(20)]
    assert {threads for _, threads in seen} == {1}
    assert all(name.startswith("circhat-core") for name, _ in seen)
    assert torch.get_num_threads() == before


def test_per_core_map_bounds_items_in_flight():
    started = []

    def items():
        for i in range(50):
            started.append(i)
            yield i

    results = per_core_map(lambda i: i, items(), workers=2)
    assert next(results) == 0
    assert len(started) <= 2 * 2 + 1  # not the whole iterable
    assert list(results) == list(range(1, 50))


def test_per_core_map_raises_the_failing_items_error_and_restores_threads():
    before = torch.get_num_threads()

    def work(i):
        if i == 5:
            raise ValueError("item 5 is corrupt")
        return i

    results = per_core_map(work, range(10), workers=2)
    assert [next(results) for _ in range(5)] == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="item 5"):
        next(results)
    assert torch.get_num_threads() == before


def test_per_core_map_with_one_worker_is_a_plain_map():
    assert list(per_core_map(str, [1, 2], workers=1)) == ["1", "2"]


def test_overlapping_maps_leave_the_callers_thread_count_alone():
    before = torch.get_num_threads()
    outer = per_core_map(lambda i: (i, torch.get_num_threads()), range(4), workers=2)
    next(outer)
    inner = per_core_map(lambda i: (i, torch.get_num_threads()), range(4), workers=2)
    assert list(inner) == [(i, 1) for i in range(4)]
    assert torch.get_num_threads() == before  # while the outer map still runs
    assert list(outer) == [(i, 1) for i in range(1, 4)]
    assert torch.get_num_threads() == before


def test_encoder_batches_run_in_parallel_give_the_same_vectors(tiny_encoder):
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 255, (64, 64, 3), dtype=np.uint8) for _ in range(10)]
    one_batch = tiny_encoder.encode_images(images, batch_size=16)
    per_core = tiny_encoder.encode_images(images, batch_size=3)  # 4 batches over the cores
    np.testing.assert_allclose(per_core, one_batch, atol=1e-5)
    np.testing.assert_allclose(
        tiny_encoder.encode_image_batch(images[:3]), one_batch[:3], atol=1e-5
    )
    assert tiny_encoder.encode_image_batch([]).shape == (0, tiny_encoder.dim)


def test_concurrent_turns_set_torch_threads_once_per_worker_never_per_turn(monkeypatch):
    """Up to four turns run at once (the app's concurrency): each runs on one torch thread,
    set once in its worker thread, never toggled back and forth around every turn."""
    from agent.agent import Agent, Turn

    calls, seen = [], []
    real = torch.set_num_threads
    monkeypatch.setattr(
        torch, "set_num_threads", lambda n: (calls.append((threading.get_ident(), n)), real(n))
    )
    overlap = threading.Barrier(4)

    class Probe:
        """Stands in for the agent behind `Agent.step`: its turn records the thread setting."""

        colours = SimpleNamespace(asked=lambda state, turn: None)  # a message, not other colours

        def _turn(self, state, *args, **kwargs):
            seen.append(torch.get_num_threads())
            time.sleep(0.002)
            seen.append(torch.get_num_threads())
            return state, []

    def worker():
        overlap.wait()
        for _ in range(10):
            Agent.step(Probe(), "state", Turn(text="a red dress"))

    workers = [threading.Thread(target=worker) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(seen) == 80 and set(seen) == {1}
    per_worker = {}
    for ident, n in calls:
        per_worker.setdefault(ident, []).append(n)
    assert all(settings == [1] for settings in per_worker.values()), per_worker
