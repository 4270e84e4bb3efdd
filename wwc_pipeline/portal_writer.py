"""Portal writes in a writer process: the write is CPU work (digests, JSON, SQL), and threads share
one core.

Profiled at 10 % of the national size (85 portals, 50,000 datasets, catalog-only checks), the
warehouse write was the largest share of the nightly process's samples, five times the
evaluation. `PortalWriter(warehouse, processes).record_portal` is `Warehouse.record_portal` done
by a worker process of its own warehouse (same URL), so that the nightly harvests and evaluates
on one core while it writes on another: the snapshot and its check results are pickled to the
worker (a small share of what writing them costs) and its `PortalWriteStats` come back. With 0
processes, or in a daemonic process (a Dask worker, which may not start processes of its own),
it writes in the calling thread. A worker that dies fails the write that was in it
(one line), and the next write starts a new worker.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from wwc_pipeline import collector
from wwc_pipeline.warehouse import Warehouse
from wwc_pipeline.warehouse.engine import WarehouseError
from wwc_pipeline.warehouse.writes import PortalWriteStats
from wwc_pipeline.worker_processes import WorkerPool, worker_warehouse

WRITER_STOPPED = (
    "the warehouse writer process stopped before the portal's write finished (out of memory?); "
    "nothing of this write was kept"
)


def write_in_worker(url: str, args: tuple, kwargs: dict[str, Any]) -> PortalWriteStats:
    """In a worker: `record_portal` on this process's warehouse for `url` (made once)."""
    collector.give_back_freed_memory()  # the previous portal's snapshot and results, freed by now
    return worker_warehouse(url).record_portal(*args, **kwargs)


def for_writer_process(snapshot: Any, reused: Any) -> tuple[Any, Any]:
    """What the write of a 304 replay reads of its snapshot and stored results, to travel to a
    writer process: its entries are the source's (`reused.entry_list_id`), so of the records only
    the assets that are not datasets (`harvest_replay`) and how many datasets there are count;
    every dataset record is sent as one shared record (pickled once), and the entries' statuses
    stay here. A harvest's write reads everything: it goes as it is."""
    if reused is None:
        return snapshot, reused
    shared = next((record for record in snapshot.records if record.is_dataset), None)
    records = [record if not record.is_dataset else shared for record in snapshot.records]
    slim = dataclasses.replace(reused, statuses={}, other_results=[])
    return dataclasses.replace(snapshot, records=records), slim


class PortalWriter:
    """`record_portal` in `processes` worker processes (0: in the calling thread)."""

    def __init__(self, warehouse: Warehouse, processes: int = 0) -> None:
        if processes < 0:
            raise ValueError(f"writer processes must be 0 or more, got {processes}")
        self.warehouse = warehouse
        self._workers = WorkerPool(processes, WRITER_STOPPED, WarehouseError)
        self.processes = self._workers.workers

    def record_portal(self, *args: Any, **kwargs: Any) -> PortalWriteStats:
        if not self.processes:
            return self.warehouse.record_portal(*args, **kwargs)
        run_id, city_id, platform, portal_url, snapshot, *rest = args
        snapshot, kwargs["reused"] = for_writer_process(snapshot, kwargs.get("reused"))
        args = (run_id, city_id, platform, portal_url, snapshot, *rest)
        return self._workers.call(write_in_worker, self.warehouse.url, args, kwargs)

    def close(self) -> None:
        self._workers.close()
