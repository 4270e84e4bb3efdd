"""The portal writer: a write in a writer process stores exactly what an in-process write stores,
and a writer process that dies fails only the write that was in it."""

from __future__ import annotations

import os
import signal

import pytest

from benchmarks.warehouse import (
    CITY,
    PLATFORM,
    content_digest,
    fresh_warehouse,
    portal_write_input,
    row_counts,
)
from wwc_pipeline.portal_writer import PortalWriter
from wwc_pipeline.warehouse.engine import WarehouseError


@pytest.fixture(scope="module")
def portal_input():
    return portal_write_input(40, seed=3)


def write(writer: PortalWriter, run_id: int, portal_input) -> object:
    snapshot, results, _ = portal_input
    return writer.record_portal(run_id, CITY, PLATFORM, snapshot.portal, snapshot, results)


def test_a_write_in_a_writer_process_stores_what_an_in_process_write_stores(tmp_path, portal_input):
    as_of = portal_input[2]
    here, here_run = fresh_warehouse(tmp_path, "here", as_of)
    there, there_run = fresh_warehouse(tmp_path, "there", as_of)
    in_process, in_worker = PortalWriter(here, 0), PortalWriter(there, 1)
    try:
        stats_here = write(in_process, here_run, portal_input)
        stats_there = write(in_worker, there_run, portal_input)
    finally:
        in_worker.close()
    assert stats_there == stats_here and stats_there.rows_written == stats_here.rows_written > 0
    assert row_counts(there) == row_counts(here)
    assert content_digest(there) == content_digest(here)


def test_a_dead_writer_process_fails_its_write_in_one_line_and_the_next_write_works(tmp_path, portal_input):
    warehouse, run_id = fresh_warehouse(tmp_path, "w", portal_input[2])
    writer = PortalWriter(warehouse, 1)
    try:
        first = write(writer, run_id, portal_input)
        counts = row_counts(warehouse)
        (worker,) = writer._workers.executor()._processes.values()  # the worker that wrote
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(10)
        with pytest.raises(WarehouseError, match="writer process stopped") as raised:
            write(writer, run_id, portal_input)
        assert "\n" not in str(raised.value)
        assert row_counts(warehouse) == counts  # nothing of the failed write was kept
        again = write(writer, run_id, portal_input)  # a new worker replaces the run's write
    finally:
        writer.close()
    assert again == first and row_counts(warehouse) == counts
