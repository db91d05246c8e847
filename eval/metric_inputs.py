"""Checks shared by the metric functions: every input is validated with a one-line message.

Conventions: a rank is the 0-based position of the target in a ranking; -1 (or any negative
value) and any rank >= the ranking length mean "not found".
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def int_array(x, name: str, ndim: int) -> np.ndarray:
    """`x` as an integer array with `ndim` dimensions, else a one-line ValueError naming `name`."""
    a = np.asarray(x)
    if a.size == 0 and not np.issubdtype(a.dtype, np.integer):
        a = a.astype(np.int64)
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimension(s), got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name}: expected an integer array, got dtype {a.dtype}")
    return a


def check_rows(a: np.ndarray, name: str, n_rows: int, rows_name: str) -> None:
    """Raise unless `a` has one entry per row of `rows_name`."""
    if a.shape[0] != n_rows:
        raise ValueError(
            f"{name}: expected {n_rows} entries (one per row of {rows_name}), got {a.shape[0]}"
        )


def check_k(k, name: str = "k") -> int:
    """`k` as a positive int, else a one-line ValueError."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"{name}: expected a positive integer, got {k!r}")
    return int(k)


def check_ks(ks: Iterable[int]) -> tuple[int, ...]:
    """Each cutoff of `ks` as a positive int; at least one."""
    ks = tuple(check_k(k, "ks") for k in ks)
    if not ks:
        raise ValueError("ks: expected at least one cutoff")
    return ks


def float_ranks(ranks, name: str, ndim: int) -> np.ndarray:
    """Integer ranks as floats with np.inf for "not found" (negative); at least one query."""
    r = int_array(ranks, name, ndim)
    if r.shape[0] == 0 or (ndim == 2 and r.shape[1] == 0):
        raise ValueError(f"{name}: expected at least one query (and turn), got shape {r.shape}")
    return np.where(r < 0, np.inf, r.astype(np.float64))


def first_match(matches: np.ndarray) -> np.ndarray:
    """(Q, L) bool -> (Q,) column of the first True per row, -1 where none."""
    if matches.shape[1] == 0:
        return np.full(matches.shape[0], -1, dtype=np.int64)
    return np.where(matches.any(axis=1), matches.argmax(axis=1), -1).astype(np.int64)
