"""The nightly's per-portal steps set each portal against its history, as `wwc scan` does.

A city backfilled from archived snapshots and then scanned by `wwc nightly` (or `wwc scan`, or a
retry: all run `portal_steps.evaluate` and `write`) must keep its observed cadence (the
TAKESTOCK-FRESH fallback for catalogs that declare none), its catalog activity and its renames.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wwc_pipeline import portal_steps
from wwc_pipeline.config import PortalConfig, load_criteria
from wwc_pipeline.model import CatalogSnapshot, DatasetRecord
from wwc_pipeline.warehouse import Warehouse, entry_writes, history_reads

T0 = datetime(2024, 1, 1, tzinfo=UTC)
PORTAL = PortalConfig(platform="dcat", url="http://127.0.0.1:9/data.json")
CITY = ("springfield", "Springfield")


def record(dataset_id: str, title: str, modified: datetime) -> DatasetRecord:
    return DatasetRecord("dcat", PORTAL.url, dataset_id, title=title, data_modified_at=modified)


def snapshot(records: list[DatasetRecord], as_of: datetime) -> CatalogSnapshot:
    harvested = CatalogSnapshot("dcat", PORTAL.url, records, len(records), 1, ["d"], as_of, as_of)
    harvested.replay = {"fingerprint": "f", "pages": [], "server_total": None}  # as if it sent ETags
    return harvested


def nightly(warehouse: Warehouse, records: list[DatasetRecord], as_of: datetime) -> int:
    """One night of the national flow for a one-portal city, step by step (no Prefect)."""
    run_id = warehouse.start_run(*CITY, "nightly", "schedule", as_of)
    job = portal_steps.PortalJob(CITY[0], CITY[1], run_id, PORTAL, as_of)
    harvested = snapshot(records, as_of)
    outcome = portal_steps.evaluate(job, harvested, None, warehouse)
    done = portal_steps.write(job, harvested, outcome, warehouse)
    portal_steps.close_city(CITY[0], run_id, [done], load_criteria(), warehouse)
    return run_id


@pytest.fixture
def warehouse(tmp_path):
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    warehouse.migrate()
    yield warehouse
    warehouse.dispose()


def test_observed_cadence_and_activity_come_from_earlier_nights(warehouse) -> None:
    """Four nights ten days apart: `updated` changes every night, `steady` never."""
    nights = [T0 + timedelta(days=10 * n) for n in range(4)]
    for as_of in nights:
        run_id = nightly(
            warehouse,
            [record("updated", "Updated", as_of - timedelta(hours=1)), record("steady", "Steady", T0)],
            as_of,
        )
    report = warehouse.city_report(CITY[0], run_id)
    by_id = {d["dataset_id"]: d for d in report["datasets"]}
    assert by_id["updated"]["checks"]["observed_fresh"] == "pass"
    assert by_id["updated"]["values"]["observed_fresh"]["observed_interval_days"] == 10.0
    assert by_id["steady"]["checks"]["observed_fresh"] == "na"  # one distinct update: no cadence
    [activity] = [p for p in report["portal_checks"] if p["check_id"] == "history.catalog_activity"]
    assert (activity["value"]["added"], activity["value"]["data_changed"]) == (0, 1)
    first = warehouse.city_report(CITY[0], run_id - 3)
    [none] = [p for p in first["portal_checks"] if p["check_id"] == "history.catalog_activity"]
    assert none["status"] == "na"


def test_a_rename_is_kept_on_the_dataset_row(warehouse) -> None:
    """The same dataset listed under https the second night stays one row, with its rename."""
    nightly(warehouse, [record("http://hub/permits", "Permits", T0)], T0)
    later = T0 + timedelta(days=7)
    nightly(warehouse, [record("https://hub/permits", "Permits", later)], later)
    renames = warehouse.dataset_renames(CITY[0])
    assert [(r["old_id"], r["new_id"]) for r in renames] == [("http://hub/permits", "https://hub/permits")]


def test_a_304_replay_hands_its_records_to_the_history_read(warehouse, monkeypatch) -> None:
    """Every page 304: the records are the previous snapshot's, rebuilt once for the checks; the
    history read takes them from there (keys only from the warehouse) and finds the same history."""
    listed = [record("a", "A", T0), record("b", "B", T0), record("a", "A again", T0)]  # a repeat
    nightly(warehouse, listed, T0)
    later = T0 + timedelta(days=1)
    run_id = warehouse.start_run(*CITY, "nightly", "schedule", later)
    source = warehouse.replay_source(CITY[0], "dcat", PORTAL.url, run_id)
    replay = warehouse.reused_snapshot(source.snapshot_id)
    assert replay is not None and replay.reused_from == source.snapshot_id
    read_back = warehouse.portal_history(CITY[0], "dcat", PORTAL.url, later, run_id)

    def not_again(*_args):
        raise AssertionError("the previous records were read again")

    monkeypatch.setattr(history_reads, "listed_records", not_again)
    from_replay = warehouse.portal_history(CITY[0], "dcat", PORTAL.url, later, run_id, replay)
    assert from_replay == read_back
    assert [r.title for r in from_replay.previous_records] == ["A", "B"]


def test_entries_written_in_parts_are_the_entries_written_at_once(tmp_path, monkeypatch) -> None:
    """A catalog written a few entries at a time (repeats and changed versions across the parts'
    edges) gives the same datasets, versions, entry lists and counts as one written whole."""
    first = [record(f"d{i % 5}", f"D{i}", T0) for i in range(8)]  # d0..d2 listed twice
    second = [record(f"d{i % 5}", f"D{i}", T0 + timedelta(days=i % 2)) for i in range(8)]

    def written(part_size: int, name: str) -> list:
        monkeypatch.setattr(entry_writes, "LISTINGS_AT_ONCE", part_size)
        warehouse = Warehouse(f"sqlite:///{tmp_path / name}")
        warehouse.migrate()
        seen = []
        for records, as_of in ((first, T0), (second, T0 + timedelta(days=1))):
            run_id = warehouse.start_run(*CITY, "rescan", "cli", as_of)
            stats = warehouse.record_portal(run_id, CITY[0], "dcat", PORTAL.url, snapshot(records, as_of), [])
            report = warehouse.city_report(CITY[0], run_id)
            seen.append(
                (stats, stats.rows_written, [(d["dataset_id"], d["title"]) for d in report["datasets"]])
            )
        warehouse.dispose()
        return seen

    in_parts, whole = written(3, "parts.db"), written(10_000, "whole.db")
    assert in_parts == whole
    assert whole[0][0].new_datasets == 8 and whole[1][0].new_versions == 4  # a row per (id, occurrence)
