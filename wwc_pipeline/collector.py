"""The cyclic garbage collector, set for a run: a nightly holds many small objects in flight.

Python's collector walks every tracked object at each full collection: with Prefect, SQLAlchemy,
pandas and Great Expectations loaded and a few dozen catalogs in flight, a national nightly
spent a quarter of its CPU there (benchmarks/README.md section 7), finding almost nothing:
records and check results hold no cycles and go with their last reference. For the run, what is
alive at its start (modules, configs, clients) is frozen out of the collector's walks; that is
undone after it, so a long-lived process (`wwc serve`) collects what the run left as usual.
The collection thresholds stay Python's: garbage of the run that holds a socket (a response in
a cycle) must go as soon as usual (a higher young threshold starved the connection pools).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def tuned_for_run() -> Iterator[None]:
    """Freeze what is alive now out of the collector's walks, for the run."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
