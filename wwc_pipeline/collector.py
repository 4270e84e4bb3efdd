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
"""

from __future__ import annotations

import ctypes
import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

# Young collections (of the middle generation) between two full ones: Python's default is 10.
# At 100 a 10 % re-run's full collections took 1.0 s of CPU instead of 4.0 s.
FULL_COLLECTION_EVERY = 100


@contextmanager
def tuned_for_run() -> Iterator[None]:
    """Freeze what is alive now out of the collector's walks, and collect the oldest generation
    less often, for the run."""
    thresholds = gc.get_threshold()
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
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        return libc.malloc_trim  # absent on musl
    except (OSError, AttributeError):
        return None
