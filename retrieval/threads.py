"""How torch work is spread over this machine's cores.

Tiny workloads (a shopper's query) run on one thread: spinning up (and, on a busy machine,
waiting for) a pool of intra-op threads costs far more than the arithmetic. Bulk work (a
catalogue's images) runs one batch per core, each on one thread: a small model's ops are too
short to split well across cores, and loading the next batch overlaps the encoding.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

import torch

SMALL_BATCH = 16

_In = TypeVar("_In")
_Out = TypeVar("_Out")
_single = {"users": 0, "before": 1}
_single_lock = threading.Lock()


@contextmanager
def torch_threads(count: int):
    before = torch.get_num_threads()
    if count != before:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if count != before:
            torch.set_num_threads(before)


def for_batch(size: int):
    """One thread for small batches (a shopper's turn), the default for large ones."""
    return torch_threads(1 if size <= SMALL_BATCH else torch.get_num_threads())


@contextmanager
def _one_torch_thread_per_worker():
    """torch's intra-op pool shrunk to one thread while any per-core map runs (counted, so
    overlapping maps restore the setting only when the last one ends)."""
    with _single_lock:
        if _single["users"] == 0:
            _single["before"] = torch.get_num_threads()
            torch.set_num_threads(1)
        _single["users"] += 1
    try:
        yield
    finally:
        with _single_lock:
            _single["users"] -= 1
            if _single["users"] == 0:
                torch.set_num_threads(_single["before"])


def per_core_map(
    fn: Callable[[_In], _Out], items: Iterable[_In], workers: int | None = None
) -> Iterator[_Out]:
    """fn(item) for each item, in order, one item per core at a time.

    `workers` defaults to torch's thread count (the cores torch may use). At most two items
    per worker are in flight, so a million-item catalogue needs memory for a few batches.
    Errors surface in order, from the item that raised them.
    """
    workers = workers or torch.get_num_threads()
    if workers <= 1:
        yield from map(fn, items)
        return
    with (
        _one_torch_thread_per_worker(),
        ThreadPoolExecutor(workers, thread_name_prefix="circhat-core") as pool,
    ):
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
