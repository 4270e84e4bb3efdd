"""Catalogs handed between a portal's tasks in this process, out of Prefect's reach.

Prefect keeps a task's parameters and result in its run context and task-run state: objects
in reference cycles (freed only by a full collection of the cyclic collector, rare with a big
frozen heap), and captured by the context of timers its API client leaves on its event loop
(a cancelled 60 s request timeout). Passed as task values, a done portal's snapshot and check
results stayed alive after its write (measured, benchmarks/README.md section 7: 1,930 records
and 22,179 check results of done portals at the end of a 2 % nightly; with keys, none). In the
threads runner the tasks hand over a `Parked` key instead and the driver drops the portal's
entries as soon as it is collected. On Dask the values travel between processes: they pass as
they are.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

_lock = threading.Lock()
_parked: dict[tuple[str, str], Any] = {}


def key_of(job: Any) -> str:
    """A portal's key in one run (`PortalJob`): two runs of a city in one process never meet."""
    return f"{job.run_id} {job.label}"


def scores_key(run_id: int, city_id: str) -> str:
    """Where a city's evidence waits for its scores task."""
    return f"{run_id} scores {city_id}"


@dataclass(frozen=True)
class Parked:
    """Where a portal's step left its value: (portal key, step)."""

    label: str
    step: str


def park(label: str, step: str, value: Any) -> Parked:
    with _lock:
        _parked[(label, step)] = value
    return Parked(label, step)


def claim(value: Any) -> Any:
    """The value a `Parked` stands for (still parked until `release`); anything else as it is."""
    if not isinstance(value, Parked):
        return value
    with _lock:
        return _parked[(value.label, value.step)]


def take(label: str, step: str) -> Any:
    """The value parked for (portal key, step), no longer parked; None when there is none."""
    with _lock:
        return _parked.pop((label, step), None)


def release(label: str) -> None:
    """Drop everything the portal `label`'s steps parked."""
    with _lock:
        for key in [key for key in _parked if key[0] == label]:
            del _parked[key]


def parked_labels() -> set[str]:
    with _lock:
        return {label for label, _ in _parked}
