"""Settings for the server process, made once: it runs for whole demo days, with many
visitors' script runs and training jobs in threads of one process."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys

# glibc mallopt() parameters (malloc.h)
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD = 1 << 20


def settle_process() -> dict[str, bool]:
    """Once per server process, after the imports (ui.warmup calls it); returns what was done."""
    return {"gc_frozen": freeze_imported_objects(), "malloc_tuned": return_freed_memory()}


def freeze_imported_objects() -> bool:
    """Collect garbage, then move every object alive into the collector's permanent
    generation (gc.freeze).

    Streamlit runs a full gc.collect() after every script run, fragments included. With torch,
    Plotly and Streamlit loaded that scanned ~200,000 long-lived objects that can never become
    garbage: ~100-150 ms of CPU per click, holding the GIL (every other visitor waited too).
    Frozen, they are skipped and a collection takes a few ms, while the garbage a run leaves
    (Plotly figures are full of reference cycles) is still collected after every run.
    """
    gc.collect()
    gc.freeze()
    return True


def return_freed_memory() -> bool:
    """Make glibc's malloc give large freed blocks back to the system (Linux only).

    By default a freed block of a few MB raises malloc's threshold for using mmap, so later
    blocks of that size (figure JSON, image batches, a training job's evaluation chunks) come
    from per-thread heaps that keep the memory after it is freed; with a script-run thread per
    visitor the server's memory then creeps up all day. A fixed threshold of 1 MB and two heaps
    keep it flat. Elsewhere (macOS, Windows, musl) this does nothing and returns False.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_ARENA_MAX, 2))
