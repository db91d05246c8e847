"""How torch work is spread over this machine's cores.

Tiny workloads (a shopper's query) run on one thread: spinning up (and, on a busy machine,
waiting for) a pool of intra-op threads costs far more than the arithmetic. Bulk work (a
catalogue's images) runs one batch per core, each on one thread: a small model's ops are too
short to split well across cores, and loading the next batch overlaps the encoding.

The setting is made once per worker thread (`one_torch_thread`: the threads that serve turns,
the per-core workers) and never restored, so no call changes it while other threads run.
torch's OpenMP pool size belongs to the calling thread; threads started later begin with the
last size set.
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
_worker = threading.local()  # .single: this thread runs its torch work on one thread


def one_torch_thread() -> None:
    """Run the calling thread's torch work on one thread from now on: set once per worker
    thread (its first call), never restored, so concurrent callers never see it change."""
    if getattr(_worker, "single", False):
        return
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
    _worker.single = True


@contextmanager
def for_batch(size: int):
    """One thread for a small batch, the thread's own setting for a large one. A worker that
    serves turns is on one thread already (`one_torch_thread`), so nothing changes there;
    elsewhere (a batch tool's own thread) a small batch runs on one thread of that thread."""
    before = torch.get_num_threads()
    if size > SMALL_BATCH or before == 1 or getattr(_worker, "single", False):
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def per_core_map(
    fn: Callable[[_In], _Out], items: Iterable[_In], workers: int | None = None
) -> Iterator[_Out]:
    """fn(item) for each item, in order, one item per core at a time.

    `workers` defaults to torch's thread count (the cores torch may use); each worker runs
    on one torch thread, set once when it starts, and the caller's setting is left as it is.
    At most two items
    per worker are in flight, so a million-item catalogue needs memory for a few batches.
    Errors surface in order, from the item that raised them.
    """
    workers = workers or torch.get_num_threads()
    if workers <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(
        workers, thread_name_prefix="circhat-core", initializer=one_torch_thread
    ) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
