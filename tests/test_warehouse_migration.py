"""Migration 0002 carries a 0001 warehouse holding real rows over, on SQLite and PostgreSQL.

The 0001 rows are written here by hand in 0001's own shape (the current code cannot write
them); every expected count below is worked out from those rows.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine, make_url, text

from tests.test_warehouse import AS_OF, PORTAL, record, snapshot
from wwc_pipeline.results import CheckResult, Status
from wwc_pipeline.warehouse import Warehouse
from wwc_pipeline.warehouse.convert import jsonable
from wwc_pipeline.warehouse.engine import upgrade

T = datetime(2024, 5, 1, tzinfo=UTC)
OLD = {  # the 0001 tables this test fills, with the columns it writes
    "cities": ("id", "name"),
    "portals": ("id", "city_id", "platform", "url", "domain"),
    "runs": ("id", "city_id", "kind", "trigger", "status", "started_at", "as_of"),
    "datasets": (
        "id",
        "portal_id",
        "dataset_id",
        "title",
        "first_seen_run_id",
        "last_seen_run_id",
        "current_version",
        "current_hash",
    ),
    "dataset_versions": ("id", "dataset_id", "version", "content_hash", "title", "record", "first_run_id"),
    "snapshots": (
        "id",
        "run_id",
        "portal_id",
        "status",
        "assets",
        "datasets",
        "pages",
        "page_digests",
        "warnings",
    ),
    "snapshot_datasets": ("snapshot_id", "dataset_id", "version", "position"),
    "check_results": ("run_id", "portal_id", "dataset_id", "check_id", "status", "value", "reason"),
    "criterion_scores": (
        "id",
        "run_id",
        "city_id",
        "criterion_id",
        "component",
        "current",
        "title",
        "status",
        "evidence",
        "counts",
        "worst_datasets",
        "portal_breakdown",
        "check_ids",
    ),
}
JSON_COLUMNS = {"record", "page_digests", "warnings", "value", "current", "counts", "worst_datasets"}
JSON_COLUMNS |= {"portal_breakdown", "check_ids"}

AAAA, RENAMED, BBBB, EEEE = (
    record("aaaa-0001"),
    record("aaaa-0001", title="Renamed"),
    record("bbbb-0002"),
    record("eeee-0005"),
)


def old_table(name: str) -> sa.TableClause:
    columns = [sa.column(c, sa.JSON) if c in JSON_COLUMNS else sa.column(c) for c in OLD[name]]
    return sa.table(name, *columns)


def described(dataset_pk: int | None, run: int) -> dict:
    return {
        "run_id": run,
        "portal_id": 1,
        "dataset_id": dataset_pk,
        "check_id": "has_description",
        "status": "pass",
        "value": True,
        "reason": "described",
    }


def policy(run: int) -> dict:
    return {
        "run_id": run,
        "portal_id": 1,
        "dataset_id": None,
        "check_id": "portal.policy",
        "status": "na",
        "value": None,
        "reason": "no policy link found",
    }


def version(pk: int, dataset: int, number: int, item) -> dict:
    return {
        "id": pk,
        "dataset_id": dataset,
        "version": number,
        "content_hash": item.content_hash(),
        "title": item.title,
        "record": jsonable(item.to_dict()),
        "first_run_id": 1 if pk != 2 else 3,
    }


def fill_0001(engine: sa.Engine) -> None:
    """Runs 1-3 of one portal: run 1 lists aaaa, bbbb, eeee; run 2 aaaa, bbbb (and has a stray
    result about eeee, which its snapshot did not list); run 3 lists aaaa renamed (version 2)."""
    runs = [
        {"id": n, "city_id": "springfield", "kind": "nightly", "trigger": "cli", "status": "succeeded"}
        | {"started_at": T, "as_of": AS_OF}
        for n in (1, 2, 3)
    ]
    dataset = {"portal_id": 1, "first_seen_run_id": 1, "current_version": 1}
    snap = {"portal_id": 1, "status": "complete", "assets": 3, "pages": 1, "page_digests": [], "warnings": []}
    rows = {
        "cities": [{"id": "springfield", "name": "Springfield"}],
        "portals": [{"id": 1, "city_id": "springfield", "platform": "socrata", "url": PORTAL, "domain": "d"}],
        "runs": runs,
        "datasets": [
            dataset
            | {"id": 1, "dataset_id": "aaaa-0001", "title": "Renamed", "last_seen_run_id": 3}
            | {"current_version": 2, "current_hash": RENAMED.content_hash()},
            dataset
            | {"id": 2, "dataset_id": "bbbb-0002", "title": BBBB.title, "last_seen_run_id": 3}
            | {"current_hash": BBBB.content_hash()},
            dataset
            | {"id": 3, "dataset_id": "eeee-0005", "title": EEEE.title, "last_seen_run_id": 1}
            | {"current_hash": EEEE.content_hash()},
        ],
        "dataset_versions": [version(1, 1, 1, AAAA), version(2, 1, 2, RENAMED), version(3, 2, 1, BBBB)]
        + [version(4, 3, 1, EEEE)],
        "snapshots": [
            snap | {"id": 1, "run_id": 1, "datasets": 3},
            snap | {"id": 2, "run_id": 2, "datasets": 2},
        ]
        + [snap | {"id": 3, "run_id": 3, "datasets": 2}],
        "snapshot_datasets": [
            {"snapshot_id": s, "dataset_id": d, "version": v, "position": p}
            for s, d, v, p in [(1, 1, 1, 0), (1, 2, 1, 1), (1, 3, 1, 2), (2, 1, 1, 0), (2, 2, 1, 1)]
            + [(3, 1, 2, 0), (3, 2, 1, 1)]
        ],
        "check_results": [described(1, 1), described(2, 1), described(3, 1), policy(1)]
        + [described(1, 2), described(2, 2), described(3, 2), policy(2)]
        + [described(1, 3), described(2, 3), policy(3)],
        "criterion_scores": [
            {"id": 1, "run_id": 3, "city_id": "springfield", "criterion_id": "A", "component": "Measure"}
            | {"current": ["DM2"], "title": "A", "status": "met", "evidence": "", "counts": {}}
            | {
                "worst_datasets": [],
                "portal_breakdown": {},
                "check_ids": ["has_description", "portal.policy"],
            }
        ],
    }
    with engine.begin() as connection:
        for name, values in rows.items():
            connection.execute(old_table(name).insert(), values)
            if connection.dialect.name == "postgresql" and "id" in OLD[name] and name != "cities":
                # as a 0001 warehouse that wrote these rows itself would have its sequences
                connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), {len(values)})")
                )


def new_results(records: list) -> list[CheckResult]:
    rows = [
        CheckResult("has_description", Status.PASS, True, "described", item.dataset_id, position)
        for position, item in enumerate(records)
    ]
    return [*rows, CheckResult("portal.policy", Status.NA, None, "no policy link found")]


def counts(wh: Warehouse) -> dict[str, int]:
    tables = ("datasets", "dataset_versions", "entry_lists", "snapshot_entries", "check_results")
    tables += (
        "result_sets",
        "result_set_members",
        "snapshot_result_sets",
        "criterion_score_checks",
        "snapshots",
    )
    return {table: wh.count_rows(table) for table in tables}


def check_upgrade(wh: Warehouse) -> None:
    upgrade(wh.engine, "0001")
    fill_0001(wh.engine)
    wh.migrate()
    assert counts(wh) == {
        "datasets": 3,
        "dataset_versions": 4,
        "entry_lists": 3,  # three different lists
        "snapshot_entries": 3 + 2 + 2,
        "check_results": 4 + 1,  # run 1's four; run 3's renamed aaaa; the rest repeat them
        # one set per check and snapshot, equal ones shared: has_description's differ in each run
        # (run 2's stray eeee result has no entry to judge); portal.policy's is the same thrice
        "result_sets": 3 + 1,
        "result_set_members": 3 + 2 + 2 + 1,
        "snapshot_result_sets": 3 * 2,
        "criterion_score_checks": 2,
        "snapshots": 3,
    }
    with wh.engine.connect() as connection:
        assert connection.execute(text("SELECT DISTINCT occurrence FROM datasets")).scalars().all() == [1]
    two = wh.city_report("springfield", 2)
    assert [(d["dataset_id"], d["position"], d["checks"]) for d in two["datasets"]] == [
        ("aaaa-0001", 0, {"has_description": "pass"}),
        ("bbbb-0002", 1, {"has_description": "pass"}),
    ]
    three = wh.city_report("springfield", 3)
    assert [(d["title"], d["occurrence"]) for d in three["datasets"]] == [("Renamed", 1), (BBBB.title, 1)]
    assert [(c["check_id"], c["status"]) for c in three["portal_checks"]] == [("portal.policy", "na")]
    linked = wh.score_check_results(3, "A")
    assert sorted((r["check_id"], r["dataset_id"] or "", r["position"]) for r in linked) == [
        ("has_description", "aaaa-0001", 0),
        ("has_description", "bbbb-0002", 1),
        ("portal.policy", "", None),
    ]
    # The same catalog written now finds the carried-over rows under the same digests: run 4
    # re-uses run 3's entry list and result sets and writes only its snapshot row and links.
    run = wh.start_run("springfield", "Springfield", "nightly", "cli", AS_OF)
    before = counts(wh)
    stats = wh.record_portal(
        run, "springfield", "socrata", PORTAL, snapshot([RENAMED, BBBB]), new_results([RENAMED, BBBB])
    )
    assert (stats.new_datasets, stats.new_versions, stats.unchanged, stats.rows_written) == (0, 0, 2, 1 + 2)
    assert counts(wh) == {**before, "snapshots": 4, "snapshot_result_sets": 6 + 2}


def test_upgrade_of_a_0001_warehouse_on_sqlite(tmp_path) -> None:
    wh = Warehouse(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        check_upgrade(wh)
    finally:
        wh.dispose()


@pytest.mark.postgres
def test_upgrade_of_a_0001_warehouse_on_postgres(postgres_url: str) -> None:
    schema = f"wwc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    wh = Warehouse(url.render_as_string(hide_password=False))
    try:
        check_upgrade(wh)
    finally:
        wh.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_a_warehouse_at_head_is_not_migrated_again(tmp_path) -> None:
    """A CLI start on an up-to-date warehouse reads alembic_version and stops there: no
    migration transaction and no foreign-key check (a scan of every row of a big warehouse)."""
    url = f"sqlite:///{tmp_path / 'head.db'}"
    warehouse = Warehouse(url)
    statements: list[str] = []
    sa.event.listen(warehouse.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    try:
        warehouse.migrate()  # a new file: migrated, keys checked
        assert any("foreign_key_check" in sql for sql in statements)
        assert any("CREATE TABLE" in sql for sql in statements)
        statements.clear()
        warehouse.migrate()
        assert any("alembic_version" in sql for sql in statements)  # it did look
        assert not any("foreign_key_check" in sql for sql in statements)
        writes = ("CREATE", "ALTER", "INSERT", "UPDATE", "DELETE", "DROP")
        assert not any(sql.lstrip().upper().startswith(writes) for sql in statements)
    finally:
        warehouse.dispose()
