"""Traceability in the warehouse: repeated ids, positions, the write guard, flags, statuses.

The `scenario_*` functions also run on PostgreSQL (test_warehouse_postgres.py). Expected values
are worked out by hand from the records built in test_warehouse.py.
"""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, insert, select

from benchmarks.evaluation import normalize, served_documents
from tests.test_warehouse import AS_OF, PORTAL, catalog, record, results, snapshot, start
from wwc_pipeline.results import CheckResult, Status
from wwc_pipeline.warehouse import Warehouse, WarehouseError
from wwc_pipeline.warehouse.digests import record_data, record_digest
from wwc_pipeline.warehouse.models import CheckResultRow, ResultSetMember, Snapshot, SnapshotResultSet

CITY = "springfield"


def refused(wh: Warehouse, run: int, records: list, extra: CheckResult, match: str) -> None:
    with pytest.raises(WarehouseError, match=match) as caught:
        wh.record_portal(run, CITY, "socrata", PORTAL, snapshot(records), [*results(records), extra])
    assert "\n" not in str(caught.value)


def scenario_guard(wh: Warehouse) -> None:
    """A result must name an entry of this run's own snapshot, by position or by id."""
    first = start(wh)
    wh.record_portal(first, CITY, "socrata", PORTAL, snapshot([*catalog(), record("dddd-0004")]), [])
    second = start(wh)
    before = wh.count_rows("check_results")
    # dddd-0004 is a dataset of the portal (run 1), but not of run 2's snapshot
    gone = CheckResult("has_description", Status.PASS, True, "", "dddd-0004")
    refused(wh, second, catalog(), gone, "dataset 'dddd-0004', which is not a dataset of this run's snapshot")
    chart = CheckResult("has_description", Status.PASS, True, "", None, 3)  # position 3: the chart
    refused(wh, second, catalog(), chart, "position 3, which is not a dataset entry")
    beyond = CheckResult("has_description", Status.PASS, True, "", None, 99)
    refused(wh, second, catalog(), beyond, "position 99, which is not a dataset entry")
    mismatch = CheckResult("has_description", Status.PASS, True, "", "bbbb-0002", 0)
    refused(
        wh,
        second,
        catalog(),
        mismatch,
        "'bbbb-0002' at position 0, where this run's snapshot lists 'aaaa-0001'",
    )
    assert wh.count_rows("check_results") == before  # nothing of a refused write stays

    listed = [*catalog(), record("aaaa-0001")]  # aaaa-0001 at positions 0 and 4
    by_id = CheckResult("links", Status.FAIL, {"status": 404}, "broken", "aaaa-0001")  # no position
    wh.record_portal(second, CITY, "socrata", PORTAL, snapshot(listed), [*results(listed), by_id])
    wh.finish_run(second, "succeeded")
    entries = wh.city_report(CITY)["datasets"]
    assert [entry["position"] for entry in entries] == [0, 1, 2, 4]
    assert entries[0]["checks"]["links"] == "fail"  # the first entry with the id
    assert "links" not in entries[3]["checks"]


def scenario_report_survives_foreign_results(wh: Warehouse) -> None:
    """A result in a snapshot's set about a version its entry list does not hold (which the
    guard prevents, so it is planted directly) is left out of the report, never a crash."""
    first = start(wh)
    wh.record_portal(first, CITY, "socrata", PORTAL, snapshot(catalog()), results(catalog()))
    second = start(wh)
    changed = [record("aaaa-0001", title="Renamed"), *catalog()[1:]]
    wh.record_portal(second, CITY, "socrata", PORTAL, snapshot(changed), results(changed))
    wh.finish_run(second, "succeeded")
    clean = wh.city_report(CITY, second)
    with wh.engine.begin() as connection:
        old_version = connection.execute(
            select(CheckResultRow.dataset_version_id, CheckResultRow.portal_id)
            .join(ResultSetMember, ResultSetMember.check_result_id == CheckResultRow.id)
            .join(SnapshotResultSet, SnapshotResultSet.result_set_id == ResultSetMember.result_set_id)
            .join(Snapshot, Snapshot.id == SnapshotResultSet.snapshot_id)
            .where(Snapshot.run_id == first, CheckResultRow.dataset_version_id.is_not(None))
            .order_by(CheckResultRow.dataset_version_id)
            .limit(1)
        ).one()  # aaaa-0001's version 1: not in run 2's entry list
        planted = connection.execute(
            insert(CheckResultRow).returning(CheckResultRow.id),
            {
                "portal_id": old_version.portal_id,
                "dataset_version_id": old_version.dataset_version_id,
                "check_id": "planted",
                "status": "fail",
                "value": None,
                "reason": "",
                "digest": "0" * 64,
                "first_run_id": second,
            },
        ).scalar_one()
        result_set = connection.scalar(
            select(SnapshotResultSet.result_set_id)
            .join(Snapshot, Snapshot.id == SnapshotResultSet.snapshot_id)
            .where(Snapshot.run_id == second)
            .limit(1)
        )
        connection.execute(insert(ResultSetMember), {"result_set_id": result_set, "check_result_id": planted})
    report = wh.city_report(CITY, second)
    assert report["datasets"] == clean["datasets"]
    assert report["portal_checks"] == clean["portal_checks"]


def scenario_warnings_and_flags(wh: Warehouse) -> None:
    """A harvest with warnings is stored `complete_with_warnings` and still counts; entry flags
    are kept per entry, and a flag alone makes a new entry list, not new datasets or versions."""
    run = start(wh)
    warned = dataclasses.replace(snapshot(catalog()), warnings=["portal reports 5 datasets, listed 3"])
    wh.record_portal(
        run, CITY, "socrata", PORTAL, warned, results(catalog()), entry_flags={1: ["invalid_utf8"]}
    )
    wh.finish_run(run, "succeeded")
    report = wh.city_report(CITY)
    [portal] = report["portals"]
    assert (portal["status"], portal["warnings"]) == (
        "complete_with_warnings",
        ["portal reports 5 datasets, listed 3"],
    )
    assert [entry["flags"] for entry in report["datasets"]] == [[], ["invalid_utf8"], []]
    assert set(wh.previous_columns(CITY, "socrata", PORTAL)) == {"aaaa-0001", "bbbb-0002", "cccc-0003"}
    again = start(wh)
    stats = wh.record_portal(again, CITY, "socrata", PORTAL, snapshot(catalog()), results(catalog()))
    assert (stats.new_datasets, stats.new_versions, stats.unchanged) == (0, 0, 3)
    assert wh.count_rows("entry_lists") == 2 and wh.count_rows("snapshot_entries") == 6
    assert wh.count_rows("check_results") == 7 and wh.count_rows("result_sets") == 3
    wh.finish_run(again, "succeeded")
    assert [entry["flags"] for entry in wh.city_report(CITY)["datasets"]] == [[], [], []]
    with wh.engine.connect() as connection:
        statuses = connection.execute(select(Snapshot.status, func.count()).group_by(Snapshot.status)).all()
    assert sorted(statuses) == [("complete", 1), ("complete_with_warnings", 1)]


def test_record_data_is_to_dict_and_its_digest_the_content_hash() -> None:
    """The write path's fast copy of `DatasetRecord.to_dict()` must agree with it exactly, or
    every dataset would get a new version on the next run."""
    documents, portal, _ = served_documents(60, 3)
    records = [*catalog(), record("ffff-0006", columns=None, created_at=AS_OF), *normalize(documents, portal)]
    assert any(item.distributions for item in records) and any(item.columns for item in records)
    for item in records:
        assert record_data(item) == item.to_dict()
        assert record_digest(record_data(item)) == item.content_hash()


TRACE_SCENARIOS = [scenario_guard, scenario_report_survives_foreign_results, scenario_warnings_and_flags]


@pytest.fixture
def wh(tmp_path) -> Warehouse:
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'warehouse.db'}")
    warehouse.migrate()
    yield warehouse
    warehouse.dispose()


@pytest.mark.parametrize("scenario", TRACE_SCENARIOS, ids=lambda function: function.__name__)
def test_trace_scenario(wh: Warehouse, scenario) -> None:
    scenario(wh)
