"""The cyclic garbage collector, set for a run: a nightly holds many small objects in flight.

Python's collector walks every tracked object at each full collection: with Prefect, SQLAlchemy,
pandas and Great Expectations loaded and a few dozen catalogs in flight, a national nightly
spent a quarter of its CPU there (benchmarks/README.md section 7), finding almost nothing:
records and check results hold no cycles and go with their last reference. For the run, what is
alive at its start (modules, configs, clients) is frozen out of the collector's walks and young
collections come less often; both are undone after it, so a long-lived process (`wwc serve`)
collects what the run left as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 50_000  # allocations between young collections (Python's default: 700)


@contextmanager
def tuned_for_run(young: int = YOUNG_THRESHOLD) -> Iterator[None]:
    """Freeze what is alive now out of the collector's walks, collect young objects less often."""
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(max(young, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
