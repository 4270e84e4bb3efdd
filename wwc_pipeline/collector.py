"""The cyclic garbage collector, set for a run: a nightly holds many small objects in flight.

Python's collector walks every tracked object at each full collection: with Prefect, SQLAlchemy,
pandas and Great Expectations loaded and a few dozen catalogs in flight, a national nightly
spent a quarter of its CPU there (benchmarks/README.md section 7), finding almost nothing:
records and check results hold no cycles and go with their last reference. For the run, what is
alive at its start (modules, configs, clients) is frozen out of the collector's walks; that is
undone after it, so a long-lived process (`wwc serve`) collects what the run left as usual.
The young thresholds stay Python's: garbage of the run that holds a socket (a response in
a cycle) must go as soon as usual (a higher young threshold starved the connection pools). Full
collections are made rarer (FULL_COLLECTION_EVERY): each walks everything the run holds alive
(the catalogs in flight), finds almost nothing (about 40,000 objects in a 10 % re-run), and took
about 15 % of a re-run's CPU at Python's default; the few cycles that live long enough to reach
the oldest generation wait longer for it.

The C heap: glibc gives each thread that contends for it an arena of its own (up to 8 a core), and
freed blocks stay in the arena that had them, so with dozens of task threads the process's RSS
grows with the number of arenas. The run caps them (MALLOC_ARENAS) unless MALLOC_ARENA_MAX is set.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache

# Young collections (of the middle generation) between two full ones: Python's default is 10.
# A 10 % re-run's full collections took 4.0 s of CPU at 10, 1.0 s at 100; at the full size, 100
# still cost 71-85 s of a first run's 750-830 s, and 1,000 took a 10 % first run's from 4.3 s to
# 0.9 s with the same peak memory (benchmarks/README.md section 7, stop 25).
FULL_COLLECTION_EVERY = 1000
# glibc arenas for the run's threads (its default: 8 a core); Python's own small objects do not
# come from them (obmalloc), and the GIL keeps contention for them low.
MALLOC_ARENAS = 2
M_ARENA_MAX = -8  # glibc's mallopt parameter number


@contextmanager
def tuned_for_run() -> Iterator[None]:
    """Freeze what is alive now out of the collector's walks, and collect the oldest generation
    less often, for the run; cap the C heap's arenas (that stays: arenas are never given back)."""
    thresholds = gc.get_threshold()
    limit_malloc_arenas()
    gc.collect()
    gc.freeze()
    gc.set_threshold(thresholds[0], thresholds[1], max(thresholds[2], FULL_COLLECTION_EVERY))
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def give_back_freed_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc `malloc_trim(0)`; elsewhere nothing).

    A portal's catalog pages and records are freed when its write is done, but glibc keeps the
    freed blocks of each thread's arena for reuse: with dozens of task threads taking turns on
    differently sized portals, the process's RSS ratchets up to the sum of the arenas' peaks.
    Trimming after each portal keeps it near what is alive (measured: section 7 of
    benchmarks/README.md)."""
    trim = _libc_function("malloc_trim")
    if trim is not None:
        trim(0)


def limit_malloc_arenas(environ: Mapping[str, str] = os.environ) -> bool:
    """Cap glibc's arenas at MALLOC_ARENAS for arenas made from now on (the task threads start
    after this); False, with nothing done, off glibc or when the user set MALLOC_ARENA_MAX."""
    if "MALLOC_ARENA_MAX" in environ:
        return False
    mallopt = _libc_function("mallopt")
    return mallopt is not None and mallopt(M_ARENA_MAX, MALLOC_ARENAS) == 1


@cache
def _libc_function(name: str) -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL(None), name)  # absent on musl
    except (OSError, AttributeError):
        return None
