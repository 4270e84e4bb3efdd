"""Unchanged catalogs evaluated in a worker process: a re-run's records are CPU work, and threads
share one core.

When every catalog page of a portal answers 304, its records are the previous snapshot's: they
are rebuilt from the warehouse, set against the portal's history, and only their as-of metrics
and a few portal checks run again. In the nightly's process that work holds the GIL beside every
other portal's (profiled at 10 % of the national size, catalog-only re-run: the process at 100 %
of one core for the whole run, the second core mostly idle). `ReplayPool(url, workers)` does it
in a worker process of its own warehouse (same URL): the harvest task only revalidates the pages
(`incremental.DeferredReplay`), the worker rebuilds and evaluates, and what the write and the
city's scores read comes back (the evidence, the few new results, and the snapshot without its
dataset records when the write keeps the stored entry list, as `portal_writer` sends it).

Only portals none of whose portal checks waits on the portal this run are sent (no sampled rows,
no link probes: those go through this process's HTTP client, which holds every host to its
`per_host` limit). With 0 workers, or in a daemonic process (a Dask worker), every replay is
rebuilt and evaluated in the task's thread, as before.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from wwc_pipeline import collector, registry
from wwc_pipeline.incremental import DeferredReplay
from wwc_pipeline.model import CatalogSnapshot
from wwc_pipeline.pipeline import PortalOutcome
from wwc_pipeline.portal_writer import for_writer_process
from wwc_pipeline.results import PortalContext
from wwc_pipeline.warehouse.engine import WarehouseError
from wwc_pipeline.worker_processes import WorkerPool, worker_warehouse

Replayed = tuple[PortalOutcome, CatalogSnapshot]
REPLAY_STOPPED = (
    "the replay worker process stopped before the portal's evaluation finished (out of memory?); "
    "nothing of it was kept"
)


def waits_on_portal(portal: Any, client: Any, as_of: Any = None) -> bool:
    """Whether some registered portal check would wait on the portal's answers this run (its
    `waits_on_portal`, asked with this process's client; one that cannot say counts as waiting)."""
    registry.load_plugins()
    context = PortalContext(
        platform=portal.platform,
        portal=portal.domain,
        as_of=as_of,
        client=client.for_portal(portal) if client is not None else None,
        connector=registry.get_connector(portal.platform),
        portal_config=portal,
    )
    for check in registry.PORTAL_CHECKS.values():
        asks = getattr(check, "waits_on_portal", None)
        try:
            if asks is not None and asks(context):
                return True
        except Exception:  # noqa: BLE001 - a check that cannot say may wait: kept here
            return True
    return False


def travelling(outcome: PortalOutcome, snapshot: CatalogSnapshot) -> Replayed:
    """What of an evaluated replay goes back to the nightly: the outcome without its per-dataset
    evaluations (they hold the records; the write and the scores read the evidence), and the
    snapshot as the write reads it (`for_writer_process`: no dataset records when the stored
    entry list is kept; all of them when it is not, e.g. after renames)."""
    evaluation = dataclasses.replace(outcome.evaluation, dataset_evaluations=[])
    snapshot, reused = for_writer_process(snapshot, outcome.reused)
    return dataclasses.replace(outcome, evaluation=evaluation, reused=reused), snapshot


class NoRequests:
    """A replay worker's HTTP client: checks see a client, as in the nightly's process, but none of
    a deferred replay's checks waits on the portal, so none asks it anything; a request would fail
    (the check reports n/a) rather than pass a host's `per_host` limit, held in the nightly's process."""

    def for_portal(self, _portal: Any) -> NoRequests:
        return self

    def within(self, _seconds: float | None, _what: str) -> NoRequests:
        return self

    def __getattr__(self, name: str) -> Any:
        def refused(*_args: Any, **_kwargs: Any) -> Any:
            raise RuntimeError(f"a replay worker sends no request ({name}): no check here waits on it")

        return refused


def replay_in_worker(url: str, job: Any, deferred: DeferredReplay) -> Replayed | None:
    """In a worker: the replay's records rebuilt from this process's warehouse for `url` and
    evaluated (with `NoRequests` for a client); None when the records cannot be rebuilt whole (the
    caller harvests the catalog instead)."""
    from wwc_pipeline import portal_steps

    warehouse = worker_warehouse(url)
    collector.give_back_freed_memory()  # the previous portal's records, freed by now
    snapshot = deferred.rebuilt(warehouse)
    if snapshot is None:
        return None
    return travelling(portal_steps.evaluate(job, snapshot, NoRequests(), warehouse), snapshot)


class ReplayPool:
    """Replays rebuilt and evaluated in `workers` worker processes (0: `takes` declines every
    portal, and each replay is rebuilt and evaluated in its task's thread)."""

    def __init__(self, url: str, workers: int = 0) -> None:
        if workers < 0:
            raise ValueError(f"replay workers must be 0 or more, got {workers}")
        self.url = url
        self._workers = WorkerPool(workers, REPLAY_STOPPED, WarehouseError)
        self.workers = self._workers.workers

    def takes(self, portal: Any, client: Any, as_of: Any = None) -> bool:
        """Whether this portal's 304 replay is to be evaluated by the pool."""
        return bool(self.workers) and not waits_on_portal(portal, client, as_of)

    def evaluate(self, job: Any, deferred: DeferredReplay) -> Replayed | None:
        """The replay rebuilt and evaluated by a worker (`replay_in_worker`)."""
        return self._workers.call(replay_in_worker, self.url, job, deferred)

    def close(self) -> None:
        self._workers.close()
