"""Process memory settings for the gateway."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)
M_ARENA_MAX = -8  # glibc mallopt parameter number (malloc.h)
DEFAULT_ARENAS = 2


def limit_malloc_arenas(arenas: int = DEFAULT_ARENAS) -> bool:
    """Caps glibc's per-thread malloc arenas (each worker thread would otherwise get its own,
    and RSS grows with every thread that synthesises or transcribes). Call before threads
    start. MALLOC_ARENA_MAX in the environment wins; False where this is not glibc."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        ok = bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False
    if ok:
        log.debug("malloc arenas limited to %d", arenas)
    return ok
