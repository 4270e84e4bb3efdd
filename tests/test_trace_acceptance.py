"""Issue 12's first acceptance point: healthdata.gov's data.json (1,762 entries, 106 of them
repeating an identifier listed earlier) served over HTTP and scanned: one report row per entry,
every dataset-level score counting 1,762, every check result joined to a snapshot entry; on
SQLite and PostgreSQL. And an unchanged re-run writes only its run, snapshot and score rows.

Expected counts come from reading the raw file here, independently of the connectors.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, exists, func, make_url, select, text

from tests.conftest import REAL_PORTALS
from wwc_pipeline.config import CityConfig, PortalConfig, load_criteria
from wwc_pipeline.http import HttpClient
from wwc_pipeline.model import CatalogSnapshot, DatasetRecord
from wwc_pipeline.pipeline import entry_flags, scan_city
from wwc_pipeline.reports.render import render_csv, render_json
from wwc_pipeline.simulator import GeneratedCatalog, PortalSimulator, RecordedCatalog
from wwc_pipeline.warehouse import Warehouse
from wwc_pipeline.warehouse.models import (
    Base,
    CheckResultRow,
    ResultSetMember,
    Snapshot,
    SnapshotEntry,
    SnapshotResultSet,
)

HEALTHDATA = REAL_PORTALS / "dcat-healthdata-gov-20190703.json"
AS_OF = datetime(2019, 7, 3, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request, tmp_path):
    """A migrated warehouse: a SQLite file, or a PostgreSQL schema of its own (dropped after)."""
    if request.param == "sqlite":
        wh = Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
        wh.migrate()
        yield wh
        wh.dispose()
        return
    postgres_url = request.getfixturevalue("postgres_url")
    schema = f"wwc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    wh = Warehouse(url.render_as_string(hide_password=False))
    try:
        wh.migrate()
        yield wh
    finally:
        wh.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def scan(warehouse: Warehouse, platform: str, url: str, as_of: datetime, city_id: str = "hhs") -> int:
    """One scan of a one-portal city over HTTP (no link probes, no row samples: loopback only)."""
    config = PortalConfig(platform=platform, url=url, check_links=0, sample_datasets=0)
    city = CityConfig(id=city_id, name=city_id.upper(), portals=[config])
    with HttpClient(min_interval=0) as client:
        result = scan_city(city, warehouse=warehouse, criteria=load_criteria(), client=client, as_of=as_of)
    assert result.status == "succeeded", result.failed_portals
    return result.run_id


def unjoined_results(warehouse: Warehouse, run_id: int) -> tuple[int, int]:
    """(dataset-level results of the run, those without an entry of their snapshot's list)."""
    has_entry = exists().where(
        SnapshotEntry.entry_list_id == Snapshot.entry_list_id,
        SnapshotEntry.dataset_version_id == CheckResultRow.dataset_version_id,
    )
    query = (
        select(func.count(), func.count().filter(~has_entry))
        .select_from(Snapshot)
        .join(SnapshotResultSet, SnapshotResultSet.snapshot_id == Snapshot.id)
        .join(ResultSetMember, ResultSetMember.result_set_id == SnapshotResultSet.result_set_id)
        .join(CheckResultRow, CheckResultRow.id == ResultSetMember.check_result_id)
        .where(Snapshot.run_id == run_id, CheckResultRow.dataset_version_id.is_not(None))
    )
    with warehouse.engine.connect() as connection:
        return tuple(connection.execute(query).one())


@pytest.mark.contract
def test_healthdata_every_entry_is_a_traceable_row(warehouse: Warehouse) -> None:
    if not HEALTHDATA.is_file():
        pytest.skip(f"{HEALTHDATA} not found (../shared absent)")
    raw = json.loads(HEALTHDATA.read_text())["dataset"]
    identifiers = [entry["identifier"] for entry in raw]
    repeats = sum(count - 1 for count in Counter(identifiers).values())
    assert (len(raw), repeats) == (1762, 106)

    with PortalSimulator() as sim:
        portal = sim.add_portal(platform="dcat", catalog=RecordedCatalog(HEALTHDATA))
        run_id = scan(warehouse, "dcat", portal.url, AS_OF)
    report = warehouse.city_report("hhs", run_id)
    rows = json.loads(render_json(report))["datasets"]
    assert len(rows) == len(raw)
    assert [row["dataset_id"] for row in rows] == identifiers  # catalog order, repeats kept
    assert [row["position"] for row in rows] == list(range(len(raw)))
    assert sum(1 for row in rows if row["repeat_of"] is not None) == repeats
    for row in rows:
        if row["repeat_of"] is not None:
            assert identifiers[row["repeat_of"]] == row["dataset_id"] and row["occurrence"] > 1

    per_check = Counter(
        line["check_id"]
        for line in csv.DictReader(io.StringIO(render_csv(report)))
        if line["level"] == "dataset"
    )
    assert per_check and set(per_check.values()) == {len(raw)}  # one CSV row per entry and check

    denominators = {
        (criterion["criterion_id"], metric): sum(counts[key] for key in ("pass", "fail", "na"))
        for criterion in report["criteria"]
        for metric, counts in criterion["counts"].items()
        if isinstance(counts, dict) and "na" in counts
    }
    assert denominators and set(denominators.values()) == {len(raw)}

    dataset_level, unjoined = unjoined_results(warehouse, run_id)
    assert dataset_level >= 12 * len(raw) and unjoined == 0
    with warehouse.engine.connect() as connection:  # and no stored result outside a result set
        members = select(ResultSetMember.check_result_id)
        stray = connection.scalar(select(func.count()).where(CheckResultRow.id.not_in(members)))
    assert stray == 0


def test_entry_flags_are_the_marks_connectors_put_on_records() -> None:
    records = [
        DatasetRecord("dcat", "x", "a"),
        DatasetRecord("dcat", "x", "b"),
        DatasetRecord("dcat", "x", "a"),
    ]
    records[1].flags = ["invalid_utf8"]  # as a connector marks an entry it had to repair
    snapshot = CatalogSnapshot("dcat", "http://127.0.0.1", records, assets=3)
    assert entry_flags(snapshot) == {1: ["invalid_utf8"]}


def row_counts(warehouse: Warehouse) -> dict[str, int]:
    return {table: warehouse.count_rows(table) for table in Base.metadata.tables}


def test_an_unchanged_rerun_writes_only_run_snapshot_and_score_rows(tmp_path) -> None:
    """A later as-of (an hour on) changes no stored value: the re-run finds every entry list,
    check result and result set already there. The second run is the first with a previous
    run to compare with: its portal results for schema drift and catalog activity are new, and
    nothing per dataset (no column changed); the third is steady."""
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    warehouse.migrate()
    with PortalSimulator() as sim:
        portal = sim.add_portal(platform="socrata", catalog=GeneratedCatalog(size=300, seed=7, as_of=AS_OF))
        scan(warehouse, "socrata", portal.url, AS_OF, city_id="same")
        after_first = row_counts(warehouse)
        first_run_rows = sum(after_first.values())
        scan(warehouse, "socrata", portal.url, AS_OF + timedelta(hours=1), city_id="same")
        first = row_counts(warehouse)
        first_replay = {table: count - after_first[table] for table, count in first.items()}
        with warehouse.engine.connect() as connection:
            new_results = connection.execute(
                select(CheckResultRow.check_id, CheckResultRow.dataset_version_id)
                .order_by(CheckResultRow.id.desc())
                .limit(first_replay["check_results"])
            ).all()
        assert sorted(new_results) == [("content.schema_drift", None), ("history.catalog_activity", None)]
        assert sum(first_replay.values()) < 0.02 * first_run_rows
        scan(warehouse, "socrata", portal.url, AS_OF + timedelta(hours=2), city_id="same")
    added = {table: count - first[table] for table, count in row_counts(warehouse).items()}
    scores, links = added["criterion_scores"], added["criterion_score_checks"]
    assert scores > 0 and links > 0 and added["snapshot_result_sets"] > 0
    assert added == {  # the snapshot's links to its result sets (one per check) are snapshot rows
        **{table: 0 for table in first},
        "runs": 1,
        "snapshots": 1,
        "snapshot_result_sets": added["snapshot_result_sets"],
        "criterion_scores": scores,
        "criterion_score_checks": links,
    }
    assert sum(added.values()) < 0.02 * first_run_rows
    warehouse.dispose()
