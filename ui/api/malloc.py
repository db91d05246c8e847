"""How much heap a serving process keeps: glibc gives each thread that meets a busy arena an
arena of its own (up to 8 per core), and each keeps the memory its turns freed. A worker
answers from a pool of up to 40 threads, so it ended up holding 15 arenas (70-90 MB on
fashion-products) that a turn rarely needs twice. Two arenas hold the same turns on two
cores (the glibc tunable that gunicorn's and Heroku's guides set through MALLOC_ARENA_MAX).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)
M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)
SERVING_ARENAS = 2


def cap_arenas(arenas: int = SERVING_ARENAS) -> bool:
    """Cap this process's malloc arenas (threads started later share them); False where the C
    library is not glibc (nothing changed)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        log.debug("no glibc mallopt here: malloc arenas left as they are")
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))
