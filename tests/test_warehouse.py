"""The warehouse on a temporary SQLite file; the `scenario_*` functions also run on PostgreSQL.

Every expected count below is worked out by hand from the records built here.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event as sa_event
from sqlalchemy import inspect, text

from wwc_pipeline.model import CatalogSnapshot, Column, DatasetRecord, Distribution
from wwc_pipeline.results import CheckResult, Status
from wwc_pipeline.warehouse import PortalWriteStats, Warehouse, WarehouseError, database_url, result_writes
from wwc_pipeline.warehouse.engine import alembic_config
from wwc_pipeline.warehouse.models import Base

AS_OF = datetime(2024, 5, 1, tzinfo=UTC)
PORTAL = "https://data.example.gov"
OTHER_PORTAL = "https://opendata.example.gov"
TABLES = (
    "snapshots",
    "datasets",
    "dataset_versions",
    "entry_lists",
    "snapshot_entries",
    "check_results",
    "result_sets",
    "result_set_members",
    "snapshot_result_sets",
)


def record(dataset_id: str, **changes: object) -> DatasetRecord:
    fields: dict = {
        "platform": "socrata",
        "portal": "data.example.gov",
        "dataset_id": dataset_id,
        "title": f"Dataset {dataset_id}",
        "description": f"About {dataset_id}",
        "keywords": ["city"],
        "data_modified_at": datetime(2024, 4, 1, tzinfo=UTC),
        "declared_frequency": "Daily",
        "distributions": [Distribution(format="csv", url=f"{PORTAL}/{dataset_id}.csv")],
        "columns": [Column("id"), Column("name", "the name")],
    }
    fields.update(changes)
    return DatasetRecord(**fields)


def catalog() -> list[DatasetRecord]:
    """Three datasets and a chart (not a dataset)."""
    chart = record("chrt-0001", asset_type="chart", is_dataset=False)
    return [record("aaaa-0001"), record("bbbb-0002"), record("cccc-0003"), chart]


def snapshot(records: list[DatasetRecord]) -> CatalogSnapshot:
    return CatalogSnapshot(
        platform="socrata",
        portal="data.example.gov",
        records=records,
        assets=len(records),
        pages=2,
        page_digests=["digest-1", "digest-2"],
        started_at=AS_OF,
        finished_at=AS_OF,
    )


def results(records: list[DatasetRecord]) -> list[CheckResult]:
    """Two checks per dataset entry (naming its position) and one portal-level check."""
    rows = []
    for position, item in enumerate(records):
        if not item.is_dataset:
            continue
        rows.append(CheckResult("has_description", Status.PASS, True, "described", item.dataset_id, position))
        fresh = Status.FAIL if item.dataset_id == "bbbb-0002" else Status.PASS
        value = {"stale_after": "2024-05-02T12:00:00+00:00"}
        rows.append(
            CheckResult("freshness", fresh, value, f"{fresh.value} for daily", item.dataset_id, position)
        )
    rows.append(CheckResult("portal.policy", Status.NA, None, "no policy link found"))
    return rows


def score(criterion_id: str, check_ids: list[str]) -> dict:
    return {
        "criterion_id": criterion_id,
        "component": "Measure",
        "current": ["DM2", "OD2"],
        "title": "Datasets are described",
        "score": 66.7,
        "status": "partially met",
        "evidence": "2 of 3 datasets pass",
        "counts": {"pass": 2, "fail": 1, "na": 0},
        "worst_datasets": [{"dataset_id": "bbbb-0002", "failed": ["freshness"]}],
        "portal_breakdown": {PORTAL: {"pass": 2, "fail": 1}},
        "check_ids": check_ids,
        "thresholds": {"kind": "metrics", "met": 85.0, "partial": 60.0, "min_datasets": 5},
    }


def counts(wh: Warehouse) -> dict[str, int]:
    return {table: wh.count_rows(table) for table in TABLES}


def start(wh: Warehouse, city: str = "springfield") -> int:
    return wh.start_run(city, city.title(), "nightly", "cli", AS_OF)


def scenario_versions(wh: Warehouse) -> None:
    """Identical records make no new versions; one changed record makes exactly one."""
    first = start(wh)
    stats = wh.record_portal(first, "springfield", "socrata", PORTAL, snapshot(catalog()), results(catalog()))
    assert stats == PortalWriteStats(new_datasets=3, new_versions=0, unchanged=0)
    wh.finish_run(first, "succeeded")
    assert wh.count_rows("dataset_versions") == 3

    second = start(wh)
    stats = wh.record_portal(
        second, "springfield", "socrata", PORTAL, snapshot(catalog()), results(catalog())
    )
    assert stats == PortalWriteStats(new_datasets=0, new_versions=0, unchanged=3)
    wh.finish_run(second, "succeeded")
    assert wh.count_rows("runs") == 2
    assert wh.count_rows("dataset_versions") == 3

    changed = catalog()
    changed[1] = record("bbbb-0002", description="Now described properly")
    third = start(wh)
    stats = wh.record_portal(third, "springfield", "socrata", PORTAL, snapshot(changed), results(changed))
    assert stats == PortalWriteStats(new_datasets=0, new_versions=1, unchanged=2)
    assert wh.count_rows("dataset_versions") == 4
    assert wh.count_rows("datasets") == 3
    assert wh.count_rows("snapshots") == 3
    # runs 1 and 2 share one entry list and their three result sets (one per check); run 3's
    # bbbb-0002 is a new version, so a new list of 3 entries, and its 2 results (which judge
    # that version) are new rows, in new sets of their checks; portal.policy's set is shared
    assert counts(wh) == {
        "snapshots": 3,
        "datasets": 3,
        "dataset_versions": 4,
        "entry_lists": 2,
        "snapshot_entries": 6,
        "check_results": 7 + 2,
        "result_sets": 3 + 2,
        "result_set_members": 7 + 3 + 3,
        "snapshot_result_sets": 3 * 3,
    }


def scenario_rollback(wh: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error after the datasets and versions were written leaves nothing of the portal."""
    first = start(wh)
    wh.record_portal(first, "springfield", "socrata", PORTAL, snapshot(catalog()), results(catalog()))
    before = counts(wh)

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected crash while writing check results")

    grown = [record("aaaa-0001", title="Renamed"), *catalog()[1:], record("dddd-0004")]
    second = start(wh)
    with monkeypatch.context() as patch:
        patch.setattr(result_writes, "write_check_results", explode)
        with pytest.raises(RuntimeError, match="injected crash"):
            wh.record_portal(second, "springfield", "socrata", PORTAL, snapshot(grown), results(grown))
    assert counts(wh) == before

    orphan = [*results(grown), CheckResult("has_description", Status.PASS, True, "", "zzzz-9999")]
    with pytest.raises(WarehouseError, match="zzzz-9999"):
        wh.record_portal(second, "springfield", "socrata", PORTAL, snapshot(grown), orphan)
    assert counts(wh) == before

    stats = wh.record_portal(second, "springfield", "socrata", PORTAL, snapshot(grown), results(grown))
    assert stats == PortalWriteStats(new_datasets=1, new_versions=1, unchanged=2)


def scenario_idempotent(wh: Warehouse) -> None:
    """Writing the same (run, portal) again replaces it, including versions it had created."""
    first = start(wh)
    wh.record_portal(first, "springfield", "socrata", PORTAL, snapshot(catalog()), results(catalog()))
    once = counts(wh)
    assert once == {
        "snapshots": 1,
        "datasets": 3,
        "dataset_versions": 3,
        "entry_lists": 1,
        "snapshot_entries": 3,
        "check_results": 7,
        "result_sets": 3,
        "result_set_members": 7,
        "snapshot_result_sets": 3,
    }
    wh.record_portal(first, "springfield", "socrata", PORTAL, snapshot(catalog()), results(catalog()))
    assert counts(wh) == once

    second = start(wh)
    changed = [record("aaaa-0001", keywords=["city", "budget"]), *catalog()[1:], record("eeee-0005")]
    wh.record_portal(second, "springfield", "socrata", PORTAL, snapshot(changed), results(changed))
    assert wh.count_rows("dataset_versions") == 5
    # The portal failed on retry: the failed snapshot replaces the complete one and its versions.
    wh.record_portal_failure(second, "springfield", "socrata", PORTAL, "HTTP 503 after 5 retries")
    assert counts(wh) == {**once, "snapshots": 2}
    report = wh.city_report("springfield", second)
    assert report["portals"][0]["status"] == "failed"
    assert report["portals"][0]["error"] == "HTTP 503 after 5 retries"
    assert report["datasets"] == []
    # Written again with the first run's content: nothing changed since run 1, so the second
    # snapshot re-uses run 1's entry list and result sets and adds only its links to them.
    stats = wh.record_portal(
        second, "springfield", "socrata", PORTAL, snapshot(catalog()), results(catalog())
    )
    assert stats == PortalWriteStats(new_datasets=0, new_versions=0, unchanged=3)
    assert stats.rows_written == 1 + 3  # the snapshot row and its links to 3 result sets
    assert counts(wh) == {**once, "snapshots": 2, "snapshot_result_sets": 6}
    assert (
        wh.city_report("springfield", second)["datasets"] == wh.city_report("springfield", first)["datasets"]
    )


def scenario_report(wh: Warehouse) -> None:
    """The report's shape, and that it reads the run asked for."""
    with pytest.raises(WarehouseError, match="no completed run for city springfield; run `wwc scan"):
        wh.city_report("springfield")
    run = start(wh)
    listed = [*catalog(), record("aaaa-0001")]  # the catalog lists aaaa-0001 twice
    wh.record_portal(run, "springfield", "socrata", PORTAL + "/", snapshot(listed), results(listed))
    wh.record_portal_failure(run, "springfield", "ckan", OTHER_PORTAL, "catalog unreachable")
    wh.record_scores(run, "springfield", [score("MEASURE-OD-METADATA", ["has_description"])])
    wh.finish_run(run, "partial", "1 of 2 portals failed")
    assert wh.count_rows("check_results") == 9  # both entries of the repeated id keep their results
    assert wh.count_rows("datasets") == 4  # aaaa-0001 occurrences 1 and 2

    report = wh.city_report("springfield")
    assert set(report) == {
        *("city", "run", "portals", "criteria", "datasets", "portal_checks", "history"),
        *("score_trend", "since_previous"),  # the reports' trend of scores and changes since the previous run
    }
    assert report["city"] == {"id": "springfield", "name": "Springfield"}
    assert report["run"]["id"] == run
    assert (report["run"]["kind"], report["run"]["trigger"]) == ("nightly", "cli")
    assert (report["run"]["status"], report["run"]["error"]) == ("partial", "1 of 2 portals failed")
    assert report["run"]["as_of"] == "2024-05-01T00:00:00+00:00"
    assert datetime.fromisoformat(report["run"]["finished_at"]).tzinfo is not None
    complete, failed = report["portals"]
    assert complete == {
        "platform": "socrata",
        "url": PORTAL,
        "status": "complete",
        "error": None,
        "assets": 5,
        "datasets": 4,
        "pages": 2,
        "warnings": [],
    }
    assert (failed["platform"], failed["status"], failed["error"]) == (
        "ckan",
        "failed",
        "catalog unreachable",
    )
    assert report["criteria"] == [score("MEASURE-OD-METADATA", ["has_description"])]
    rows = [
        (entry["dataset_id"], entry["position"], entry["occurrence"], entry["repeat_of"])
        for entry in report["datasets"]
    ]  # one row per entry, in catalog order; the chart at position 3 is not a dataset
    assert rows == [
        ("aaaa-0001", 0, 1, None),
        ("bbbb-0002", 1, 1, None),
        ("cccc-0003", 2, 1, None),
        ("aaaa-0001", 4, 2, 0),
    ]
    assert all(
        entry["checks"] == {"has_description": "pass", "freshness": "pass"}
        for entry in report["datasets"][::3]
    )
    second = report["datasets"][1]
    assert second["portal"] == PORTAL
    assert second["title"] == "Dataset bbbb-0002"
    assert second["checks"] == {"has_description": "pass", "freshness": "fail"}
    assert second["reasons"]["freshness"] == "fail for daily"
    assert second["values"] == {
        "has_description": True,
        "freshness": {"stale_after": "2024-05-02T12:00:00+00:00"},
    }
    assert second["flags"] == []
    assert report["portal_checks"] == [
        {
            "portal": PORTAL,
            "check_id": "portal.policy",
            "status": "na",
            "value": None,
            "reason": "no policy link found",
        }
    ]
    assert wh.latest_run("springfield")["id"] == run
    assert wh.latest_run("springfield", status_in=("succeeded",)) is None
    assert [item["id"] for item in wh.runs("springfield")] == [run]

    later = start(wh)  # still running: the default report stays on the completed run
    assert wh.city_report("springfield")["run"]["id"] == run
    assert wh.city_report("springfield", later)["portals"] == []
    other = start(wh, "shelbyville")
    with pytest.raises(WarehouseError, match="not a run of city springfield"):
        wh.city_report("springfield", other)


def scenario_score_links(wh: Warehouse) -> None:
    """A score's check ids lead to exactly its run's results for those checks."""
    first = start(wh)
    wh.record_portal(first, "springfield", "socrata", PORTAL, snapshot(catalog()), results(catalog()))
    second = start(wh)
    wh.record_portal(second, "springfield", "socrata", PORTAL, snapshot(catalog()), results(catalog()))
    wh.record_scores(second, "springfield", [score("A", ["freshness", "portal.policy"]), score("B", [])])
    rows = wh.score_check_results(second, "A")
    assert sorted(
        (row["check_id"], row["dataset_id"] or "", row["position"], row["status"]) for row in rows
    ) == [
        ("freshness", "aaaa-0001", 0, "pass"),
        ("freshness", "bbbb-0002", 1, "fail"),
        ("freshness", "cccc-0003", 2, "pass"),
        ("portal.policy", "", None, "na"),
    ]
    assert wh.count_rows("criterion_score_checks") == 2  # A: freshness, portal.policy; B: none
    assert {row["portal"] for row in rows} == {PORTAL}
    assert wh.score_check_results(second, "B") == []
    with pytest.raises(WarehouseError, match="no score for criterion 'A' in run"):
        wh.score_check_results(first, "A")
    wh.record_scores(second, "springfield", [score("A", ["freshness"])])  # replaces, never adds
    assert wh.count_rows("criterion_scores") == 1
    assert wh.count_rows("criterion_score_checks") == 1
    assert {row["check_id"] for row in wh.score_check_results(second, "A")} == {"freshness"}


def scenario_previous_columns(wh: Warehouse) -> None:
    """Columns of the latest complete snapshot before a run (schema-drift input)."""
    first = start(wh)
    no_columns = record("cccc-0003", columns=None)
    wh.record_portal(first, "springfield", "socrata", PORTAL, snapshot(catalog()[:2] + [no_columns]), [])
    second = start(wh)
    assert wh.previous_columns("springfield", "socrata", PORTAL) == {
        "aaaa-0001": ["id", "name"],
        "bbbb-0002": ["id", "name"],
    }
    renamed = [record("aaaa-0001", columns=[Column("id"), Column("full_name")]), catalog()[1]]
    wh.record_portal(second, "springfield", "socrata", PORTAL, snapshot(renamed), [])
    assert wh.previous_columns("springfield", "socrata", PORTAL)["aaaa-0001"] == ["id", "full_name"]
    assert wh.previous_columns("springfield", "socrata", PORTAL, before_run_id=second)["aaaa-0001"] == [
        "id",
        "name",
    ]
    third = start(wh)
    wh.record_portal_failure(third, "springfield", "socrata", PORTAL, "timeout")
    assert wh.previous_columns("springfield", "socrata", PORTAL)["aaaa-0001"] == ["id", "full_name"]
    assert wh.previous_columns("springfield", "ckan", PORTAL) == {}


def scenario_results_found_by_portal(wh: Warehouse) -> None:
    """A portal's stored results are looked up by digest within that portal: the same catalog
    on two portals gives two sets of rows, and each portal finds only its own."""
    run = start(wh)
    for url in (PORTAL, OTHER_PORTAL):
        wh.record_portal(run, "springfield", "socrata", url, snapshot(catalog()), results(catalog()))
    with wh.engine.connect() as connection:
        stored = connection.execute(text("SELECT portal_id, digest, id FROM check_results")).all()
    portal_ids = sorted({portal_id for portal_id, _, _ in stored})
    assert len(portal_ids) == 2 and len(stored) == 2 * len(results(catalog()))
    every_digest = [digest for _, digest, _ in stored]
    with wh._session() as session:
        for portal_id in portal_ids:
            own = {digest: pk for owner, digest, pk in stored if owner == portal_id}
            assert result_writes.result_ids(session, portal_id, every_digest) == own


def scenario_migrations(wh: Warehouse) -> None:
    """Migrating again changes nothing, and the migration matches the models exactly."""
    tables = set(inspect(wh.engine).get_table_names())
    wh.migrate()
    assert set(inspect(wh.engine).get_table_names()) == tables == {*Base.metadata.tables, "alembic_version"}
    with wh.engine.connect() as connection:
        heads = ScriptDirectory.from_config(alembic_config()).get_heads()
        assert len(heads) == 1, f"the migration history must stay linear, heads: {heads}"
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == heads
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


SCENARIOS = [
    scenario_versions,
    scenario_idempotent,
    scenario_report,
    scenario_score_links,
    scenario_previous_columns,
    scenario_results_found_by_portal,
    scenario_migrations,
]


@pytest.fixture
def wh(tmp_path) -> Warehouse:
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'warehouse.db'}")
    warehouse.migrate()
    yield warehouse
    warehouse.dispose()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda function: function.__name__)
def test_scenario(wh: Warehouse, scenario) -> None:
    scenario(wh)


def test_a_portals_result_lookup_reads_its_own_part_of_the_digest_index(wh: Warehouse) -> None:
    """The unique key of check results starts with the portal, and the look-up by digest goes
    through it: a nation-wide index of random digests alone made every insert and look-up of a
    big warehouse touch random pages (50-75 us of CPU an insert at the national size)."""
    unique = inspect(wh.engine).get_unique_constraints("check_results")
    assert [c["column_names"] for c in unique] == [["portal_id", "digest"]]
    statements: list[tuple[str, object]] = []
    listen = lambda *args: statements.append((args[2], args[3]))  # noqa: E731
    run = start(wh)
    wh.record_portal(run, "springfield", "socrata", PORTAL, snapshot(catalog()), results(catalog()))
    sa_event.listen(wh.engine, "before_cursor_execute", listen)
    try:
        with wh._session() as session:
            assert result_writes.result_ids(session, 1, ["0" * 64]) == {}
    finally:
        sa_event.remove(wh.engine, "before_cursor_execute", listen)
    ((sql, parameters),) = [(s, p) for s, p in statements if "FROM check_results" in s]
    with wh.engine.connect() as connection:
        plan = " ".join(
            row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)
        )
    assert "(portal_id=? AND digest=?)" in plan, plan


def test_failure_mid_portal_rolls_back(wh: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario_rollback(wh, monkeypatch)


def test_default_url_is_a_file_in_the_data_dir(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WWC_DATABASE_URL", raising=False)
    monkeypatch.setenv("WWC_DATA_DIR", str(tmp_path / "data"))
    assert database_url() == f"sqlite:///{tmp_path / 'data' / 'warehouse.db'}"
    warehouse = Warehouse()
    warehouse.migrate()
    warehouse.dispose()
    assert (tmp_path / "data" / "warehouse.db").is_file()
    monkeypatch.setenv("WWC_DATABASE_URL", "postgresql+psycopg://wwc@db.internal/wwc")
    assert database_url() == "postgresql+psycopg://wwc@db.internal/wwc"


@pytest.mark.parametrize("url", ["not a url", "nosuchdialect://host/db"])
def test_bad_url_is_a_one_line_error(url: str) -> None:
    with pytest.raises(WarehouseError, match="bad database URL") as caught:
        Warehouse(url)
    assert "\n" not in str(caught.value)


def test_unreachable_database_is_a_one_line_error_without_the_password() -> None:
    warehouse = Warehouse("postgresql+psycopg://wwc:s3cret@127.0.0.1:9/wwc?connect_timeout=2")
    with pytest.raises(WarehouseError, match="cannot migrate the warehouse at postgresql") as caught:
        warehouse.migrate()
    assert "\n" not in str(caught.value)
    assert "s3cret" not in str(caught.value)
    warehouse.dispose()


def test_bad_input_is_refused_with_a_reason(wh: Warehouse) -> None:
    with pytest.raises(WarehouseError, match="unknown run kind 'weekly'"):
        wh.start_run("springfield", "Springfield", "weekly", "cli", AS_OF)
    with pytest.raises(WarehouseError, match="run 99 not found"):
        wh.finish_run(99, "succeeded")
    run = start(wh)
    with pytest.raises(WarehouseError, match="unknown run status 'done'"):
        wh.finish_run(run, "done")
    with pytest.raises(WarehouseError, match="not found"):
        wh.record_portal(run, "shelbyville", "socrata", PORTAL, snapshot(catalog()), [])
    incomplete = {key: value for key, value in score("A", []).items() if key != "counts"}
    with pytest.raises(WarehouseError, match="score for 'A' lacks counts"):
        wh.record_scores(run, "springfield", [incomplete])
    odd = [dataclasses.replace(results(catalog())[0], status="maybe")]
    with pytest.raises(WarehouseError, match="returned status 'maybe'"):
        wh.record_portal(run, "springfield", "socrata", PORTAL, snapshot(catalog()), odd)
    with pytest.raises(WarehouseError, match="no warehouse table 'nope'"):
        wh.count_rows("nope")


def test_concurrent_portal_writes_on_sqlite(wh: Warehouse) -> None:
    """Portals of one run are written from several threads at once (the flows fan out)."""
    run = start(wh)
    urls = [f"https://portal{number}.example.gov" for number in range(4)]

    def write(url: str) -> PortalWriteStats:
        return wh.record_portal(run, "springfield", "socrata", url, snapshot(catalog()), results(catalog()))

    with ThreadPoolExecutor(max_workers=4) as pool:
        stats = list(pool.map(write, urls))
    assert stats == [PortalWriteStats(new_datasets=3, new_versions=0, unchanged=0)] * 4
    assert wh.count_rows("datasets") == 12
    assert wh.count_rows("check_results") == 28


def test_a_city_closes_in_one_write_or_not_at_all(wh: Warehouse) -> None:
    """`close_run`: the scores and the run's end together (the nightly's one write per city);
    a refused close leaves neither."""
    run = start(wh)
    wh.record_portal(run, "springfield", "socrata", PORTAL, snapshot(catalog()), results(catalog()))
    incomplete = {key: value for key, value in score("B", []).items() if key != "counts"}
    with pytest.raises(WarehouseError, match="score for 'B' lacks counts"):
        wh.close_run(run, "springfield", [score("A", ["has_description"]), incomplete], "succeeded")
    with pytest.raises(WarehouseError, match="not found"):
        wh.close_run(run, "shelbyville", [score("A", ["has_description"])], "succeeded")
    assert wh.count_rows("criterion_scores") == 0
    assert wh.run_info(run)["status"] == "running"
    wh.close_run(run, "springfield", [score("A", ["has_description"])], "partial", "1 of 2 portals failed")
    info = wh.run_info(run)
    assert (info["status"], info["error"]) == ("partial", "1 of 2 portals failed")
    assert wh.count_rows("criterion_scores") == 1


def test_a_nightly_starts_its_cities_in_one_write(wh: Warehouse) -> None:
    """`start_runs`: every city's run in one transaction (a nightly starts hundreds before its
    first portal), each naming the flow run behind it; a refused start leaves no run."""
    with pytest.raises(WarehouseError, match="unknown run kind 'weekly'"):
        wh.start_runs([("springfield", "Springfield")], "weekly", "schedule", AS_OF)
    assert wh.count_rows("runs") == 0
    start(wh, "shelbyville")  # a city known before, renamed below
    commits: list[object] = []
    count = commits.append  # one bound method: the listener removed is the one added
    sa_event.listen(wh.engine, "commit", count)
    try:
        cities = [
            ("springfield", "Springfield"),
            ("shelbyville", "Shelbyville (renamed)"),
            ("ogdenville", "Ogdenville"),
        ]
        run_ids = wh.start_runs(cities, "nightly", "schedule", AS_OF, "flow-run-1")
    finally:
        sa_event.remove(wh.engine, "commit", count)
    assert len(commits) == 1
    assert len(set(run_ids)) == 3
    for (city_id, _), run_id in zip(cities, run_ids, strict=True):
        info = wh.run_info(run_id)
        assert (info["city_id"], info["status"]) == (city_id, "running")
        assert info["prefect_flow_run_id"] == "flow-run-1"
    with wh._session() as session:
        names = dict(session.execute(text("SELECT id, name FROM cities")).all())
    assert names["shelbyville"] == "Shelbyville (renamed)" and names["ogdenville"] == "Ogdenville"


@pytest.mark.postgres
def test_only_a_server_connection_is_pinged_before_use(tmp_path, postgres_url) -> None:
    """A SQLite file cannot go stale: no ping (a statement more at every checkout); a server
    connection can (restart, idle timeout): pinged."""
    from wwc_pipeline.warehouse.engine import dispose_engine, get_engine

    sqlite_url = f"sqlite:///{tmp_path / 'ping.db'}"
    assert get_engine(sqlite_url).pool._pre_ping is False
    assert get_engine(postgres_url).pool._pre_ping is True
    dispose_engine(sqlite_url)


def test_last_harvests_are_each_portals_latest_snapshots(wh: Warehouse) -> None:
    """What the nightly orders its portals by (longest first) and budgets them with: the pages and
    records of each portal's latest snapshot, for the cities asked about; a failed snapshot (no
    pages) does not count."""
    first = start(wh)
    wh.record_portal(first, "springfield", "socrata", PORTAL, snapshot(catalog()), results(catalog()))
    wh.finish_run(first, "succeeded")
    second = start(wh)
    wider = dataclasses.replace(snapshot(catalog()), pages=7)
    wh.record_portal(second, "springfield", "socrata", PORTAL + "/", wider, results(catalog()))
    wh.finish_run(second, "succeeded")
    third = start(wh)
    wh.record_portal_failure(third, "springfield", "socrata", PORTAL, "down")
    other = start(wh, "shelbyville")
    wh.record_portal(other, "shelbyville", "socrata", PORTAL, snapshot(catalog()), results(catalog()))
    records = len(catalog())
    assert wh.last_harvests(["springfield"]) == {("springfield", "socrata", PORTAL.rstrip("/")): (7, records)}
    both = wh.last_harvests(["springfield", "shelbyville"])
    assert both[("shelbyville", "socrata", PORTAL.rstrip("/"))] == (2, records)
    assert wh.last_harvests(["ogdenville"]) == {}
