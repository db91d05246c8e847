"""Run tiny torch workloads on one thread: for a single query, spinning up (and, on a busy
machine, waiting for) a pool of intra-op threads costs far more than the arithmetic."""

from __future__ import annotations

from contextlib import contextmanager

import torch

SMALL_BATCH = 16


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
