"""`backfill_city` of Minneapolis's 12 real snapshots into the warehouse, on SQLite and PostgreSQL.

Expected values come from the snapshots' MANIFEST.tsv, from the raw JSON (json/datetime only)
or from the hand-checked cases of test_history_minneapolis.py, never from the code under test.
"""

from __future__ import annotations

import csv
import uuid
from datetime import datetime

import pytest
from sqlalchemy import create_engine, make_url, select, text

from tests.conftest import REAL_PORTALS
from tests.test_history_minneapolis import CADENCE_CASES, ITEM_CHANGES_2020_11, raw_entries, raw_time
from wwc_pipeline.config import CityConfig, load_criteria
from wwc_pipeline.history.backfill import backfill_city
from wwc_pipeline.reports import render_html, render_json
from wwc_pipeline.reports.history import CHANGE_ROWS_SHOWN
from wwc_pipeline.warehouse import Warehouse
from wwc_pipeline.warehouse.models import (
    Base,
    Dataset,
    DatasetRename,
    DatasetVersion,
    Run,
    Snapshot,
    SnapshotEntry,
)

pytestmark = pytest.mark.contract

HISTORY = REAL_PORTALS / "history" / "minneapolis"
HUB = "https://opendata.minneapolismn.gov"
CITY = CityConfig(id="minneapolis", name="City of Minneapolis", portals=[{"platform": "dcat", "url": HUB}])
OBSERVED_STATUS = {"fresh": "pass", "stale": "fail", "unknown": "na"}


def manifest() -> list[dict]:
    with (HISTORY / "MANIFEST.tsv").open() as handle:
        return sorted(csv.DictReader(handle, delimiter="\t"), key=lambda row: row["as_of"])


def row_counts(warehouse: Warehouse) -> dict[str, int]:
    return {table: warehouse.count_rows(table) for table in Base.metadata.tables}


def postgres_warehouse(postgres_url: str):
    """A warehouse in a schema of its own; yields it, then drops the schema."""
    schema = f"wwc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    warehouse = Warehouse(url.render_as_string(hide_password=False))
    try:
        warehouse.migrate()
        yield warehouse
    finally:
        warehouse.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def loaded(request, tmp_path_factory):
    """The 12 snapshots backfilled, then backfilled again; (warehouse, first, second, rows, rows again)."""
    if not (HISTORY / "MANIFEST.tsv").is_file():
        pytest.skip(f"{HISTORY} not found (../shared absent)")
    holder = None
    if request.param == "sqlite":
        warehouse = Warehouse(f"sqlite:///{tmp_path_factory.mktemp('history') / 'w.db'}")
        warehouse.migrate()
    else:
        holder = postgres_warehouse(request.getfixturevalue("postgres_url"))
        warehouse = next(holder)
    criteria = load_criteria()
    first = backfill_city(CITY, HISTORY, warehouse=warehouse, criteria=criteria)
    rows = row_counts(warehouse)
    second = backfill_city(CITY, HISTORY, warehouse=warehouse, criteria=criteria)
    yield warehouse, first, second, rows, row_counts(warehouse)
    if holder is not None:
        holder.close()  # drops the schema
    else:
        warehouse.dispose()


def runs_by_file(loaded) -> dict[str, int]:
    _, first, _, _, _ = loaded
    return {item["file"]: item["run_id"] for item in first.loaded}


def test_twelve_runs_of_kind_backfill_with_the_manifest_counts(loaded) -> None:
    warehouse, first, _, _, _ = loaded
    rows = manifest()
    assert first.problems == []
    assert [item["file"] for item in first.loaded] == [row["file"] for row in rows]
    with warehouse.engine.connect() as connection:
        found = connection.execute(
            select(Run.kind, Run.status, Run.as_of, Snapshot.datasets)
            .join(Snapshot, Snapshot.run_id == Run.id)
            .where(Run.city_id == "minneapolis")
            .order_by(Run.as_of)
        ).all()
    assert [datasets for *_, datasets in found] == [int(row["entries"]) for row in rows]  # 111 ... 213
    assert {(kind, status) for kind, status, _, _ in found} == {("backfill", "succeeded")}
    assert [str(as_of)[:10] for _, _, as_of, _ in found] == [row["as_of"] for row in rows]


def test_loading_the_same_snapshots_again_adds_nothing(loaded) -> None:
    _, first, second, rows, rows_again = loaded
    assert second.loaded == [] and second.problems == []
    assert [(item["file"], item["run_id"]) for item in second.already] == [
        (item["file"], item["run_id"]) for item in first.loaded
    ]
    assert rows_again == rows


def test_police_use_of_force_is_one_dataset_row_with_its_renames_recorded(loaded) -> None:
    warehouse = loaded[0]
    with warehouse.engine.connect() as connection:
        keys = connection.execute(
            select(Run.as_of, SnapshotEntry.dataset_id)
            .join(Snapshot, Snapshot.run_id == Run.id)
            .join(SnapshotEntry, SnapshotEntry.entry_list_id == Snapshot.entry_list_id)
            .join(DatasetVersion, DatasetVersion.id == SnapshotEntry.dataset_version_id)
            .where(DatasetVersion.title == "Police Use of Force")
        ).all()
        assert len(keys) == 12 and len({key for _, key in keys}) == 1
        key = keys[0][1]
        renames = connection.execute(
            select(DatasetRename.old_identifier, DatasetRename.new_identifier, DatasetRename.rule)
            .where(DatasetRename.dataset_id == key)
            .order_by(DatasetRename.id)
        ).all()
        current = connection.scalar(select(Dataset.dataset_id).where(Dataset.id == key))
    item = "opendata.minneapolismn.gov/datasets/6d8110617c4b4971a270ff0834971b89_0"
    slug = f"{HUB}/maps/cityoflakes::police-use-of-force"
    assert [tuple(row) for row in renames] == [
        (f"http://{item}", f"https://{item}", "identifier_without_scheme"),
        (f"https://{item}", slug, "platform_key"),
    ]
    assert current == slug
    by_file = runs_by_file(loaded)
    first_report = warehouse.city_report("minneapolis", by_file["20180104.json"])
    listed = [d["dataset_id"] for d in first_report["datasets"] if d["title"] == "Police Use of Force"]
    assert listed == [f"http://{item}"]  # each run shows the identifier it listed


def test_every_rename_is_recorded(loaded) -> None:
    """Counts of renames per run, each checked by hand in test_history_minneapolis.py or below."""
    warehouse = loaded[0]
    renames = warehouse.dataset_renames("minneapolis")
    per_day = {}
    for rename in renames:
        if rename["rule"] != "earlier_identifier":
            per_day[rename["as_of"][:10]] = per_day.get(rename["as_of"][:10], 0) + 1
    assert per_day["2020-11-18"] == 139 + len(ITEM_CHANGES_2020_11)
    assert {r["rule"] for r in renames} == {
        "identifier_without_scheme", "platform_key", "unique_title", "earlier_identifier"
    }  # fmt: skip
    # jq: "Scooter Availability" is item 47af2f88 in 2019-11 and 2020-02, item c238710e in 2020-06
    # (same title, unique: a rename), and 47af2f88 again (https, "Scooter Availability 2019") in
    # 2020-11: it comes back to its dataset, which carried c238710e until then.
    item = "opendata.minneapolismn.gov/datasets/"
    back = [(r["as_of"][:10], r["old_id"], r["new_id"]) for r in renames if r["rule"] == "earlier_identifier"]
    assert back == [
        (
            "2020-11-18",
            f"http://{item}c238710e7efa4ad9ba01405383d4bfdd_0",
            f"https://{item}47af2f88d31f45ccaaf945dbcc8f9665_0",
        )
    ]
    # 2022: every identifier changed (no 2021 id is listed again): each dataset matched is a rename.
    listed_2021 = {e["identifier"] for e in raw_entries("20211122.json")}
    assert not listed_2021 & {e["identifier"] for e in raw_entries("20220616.json")}
    last = warehouse.city_report("minneapolis", runs_by_file(loaded)["20220616.json"])
    counts = last["history"]["changes"][0]["counts"]
    assert per_day["2022-06-16"] == counts["renamed"] == len(listed_2021) - counts["removed"]


@pytest.mark.parametrize(("title", "name", "interval", "status"), CADENCE_CASES)
def test_observed_cadence_is_stored_with_the_run(loaded, title, name, interval, status) -> None:
    warehouse = loaded[0]
    report = warehouse.city_report("minneapolis", runs_by_file(loaded)[name])
    [dataset] = [d for d in report["datasets"] if d["title"] == title]
    assert dataset["checks"]["observed_fresh"] == OBSERVED_STATUS[status]
    assert dataset["values"]["observed_fresh"]["observed_interval_days"] == interval
    assert dataset["values"]["observed_fresh"]["status"] == status
    assert "observed" in dataset["reasons"]["observed_fresh"].lower()


def test_changes_since_the_previous_run(loaded) -> None:
    warehouse = loaded[0]
    report = warehouse.city_report("minneapolis", runs_by_file(loaded)["20201118.json"])
    [portal] = report["history"]["changes"]
    assert portal["previous_run_id"] == runs_by_file(loaded)["20200608.json"]
    before = {e["identifier"]: raw_time(e["modified"]) for e in raw_entries("20200608.json")}
    after = {e["identifier"]: raw_time(e["modified"]) for e in raw_entries("20201118.json")}
    pairs = {i: i.replace("https://", "http://") for i in after if i.replace("https://", "http://") in before}
    base = "opendata.minneapolismn.gov/datasets/"
    pairs.update({f"https://{base}{new}": f"http://{base}{old}" for old, new in ITEM_CHANGES_2020_11.items()})
    moved = sum(1 for new, old in pairs.items() if before[old] != after[new])
    assert {k: v for k, v in portal["counts"].items() if k != "metadata_changed"} == {
        "added": 6,
        "removed": 1,
        "renamed": 147,
        "data_changed": moved,
    }
    assert len(portal["rows"]) == sum(portal["counts"].values())
    first = warehouse.city_report("minneapolis", runs_by_file(loaded)["20180104.json"])
    assert first["history"]["changes"][0]["previous_run_id"] is None


def test_report_shows_the_trend(loaded) -> None:
    warehouse = loaded[0]
    report = warehouse.city_report("minneapolis")  # the latest run by as-of time
    assert report["run"]["as_of"].startswith("2022-06-16")
    trend = report["history"]["trend"]
    assert [p["datasets"] for p in trend] == [int(row["entries"]) for row in manifest()]
    assert [p["as_of"][:10] for p in trend] == [row["as_of"] for row in manifest()]
    page = render_html(report)
    section = page[page.index('<section id="history">') :]
    section = section[: section.index("</section>")]
    assert all(row["as_of"] in section for row in manifest())
    assert "Fresh (observed cadence)" in section and "Fresh (declared cadence)" in section
    changes = sum(report["history"]["changes"][0]["counts"].values())
    assert section.count("<tr") == 1 + 12 + 1 + min(changes, CHANGE_ROWS_SHOWN)
    assert '"trend"' in render_json(report)


def test_takestock_fresh_uses_the_observed_cadence_where_none_is_declared(loaded) -> None:
    warehouse = loaded[0]
    # No entry declares a frequency (jq '[.dataset[] | select(.accrualPeriodicity)] | length' is 0).
    assert not any("accrualPeriodicity" in e for e in raw_entries("20220616.json"))
    report = warehouse.city_report("minneapolis")
    [fresh] = [c for c in report["criteria"] if c["criterion_id"] == "TAKESTOCK-FRESH"]
    statuses = [d["checks"]["observed_fresh"] for d in report["datasets"]]
    passed, failed = statuses.count("pass"), statuses.count("fail")
    assert fresh["counts"]["fresh"]["judged_by"] == {
        "declared cadence": 0,
        "observed cadence": passed + failed,
    }
    assert fresh["score"] == round(100 * passed / (passed + failed), 1)
    assert f"declared cadence for 0 and observed cadence for {passed + failed}" in fresh["evidence"]
    assert {"fresh", "observed_fresh", "declares_frequency"} <= set(fresh["check_ids"])


def test_takestock_activity_reports_added_and_changed(loaded) -> None:
    warehouse = loaded[0]
    report = warehouse.city_report("minneapolis", runs_by_file(loaded)["20181102.json"])
    [activity] = [c for c in report["criteria"] if c["criterion_id"] == "TAKESTOCK-ACTIVITY"]
    [seen] = [p for p in report["portal_checks"] if p["check_id"] == "history.catalog_activity"]
    counts = report["history"]["changes"][0]["counts"]  # one year after the first run: every change counts
    assert seen["value"]["added"] == counts["added"]
    assert seen["value"]["data_changed"] == counts["data_changed"]
    assert (
        f"{counts['added']} datasets added, {counts['data_changed']} more with data changed"
        in activity["evidence"]
    )
    first = warehouse.city_report("minneapolis", runs_by_file(loaded)["20180104.json"])
    [none] = [p for p in first["portal_checks"] if p["check_id"] == "history.catalog_activity"]
    assert none["status"] == "na"


def test_trend_points_agree_with_the_runs_own_results(loaded) -> None:
    warehouse = loaded[0]
    for point in warehouse.city_trend("minneapolis")[::5]:
        report = warehouse.city_report("minneapolis", point["run_id"])
        statuses = [d["checks"].get("has_description") for d in report["datasets"]]
        assert point["share_with_description"] == round(statuses.count("pass") / len(statuses), 4)
        assert point["datasets"] == len(report["datasets"])
        assert point["as_of"] == report["run"]["as_of"]


def test_as_of_is_stored_as_given(loaded) -> None:
    warehouse = loaded[0]
    trend = warehouse.city_trend("minneapolis")
    assert all(datetime.fromisoformat(point["as_of"]).utcoffset().total_seconds() == 0 for point in trend)


def test_the_warehouse_path_agrees_with_following_the_files(loaded) -> None:
    """Every dataset's observed interval in every 4th run equals the pure timeline's."""
    from wwc_pipeline.history.snapshots import LoadedSnapshot, read_snapshots
    from wwc_pipeline.history.timeline import follow

    warehouse = loaded[0]
    files = [s for s in read_snapshots(HISTORY) if isinstance(s, LoadedSnapshot)]
    followed = follow((s.as_of, s.records) for s in files)
    for snapshot, run in list(zip(files, followed, strict=True))[3::4]:
        report = warehouse.city_report("minneapolis", runs_by_file(loaded)[snapshot.path.name])
        stored = {d["dataset_id"]: d["values"]["observed_fresh"] for d in report["datasets"]}
        assert {i: (v["observed_interval_days"], v["status"]) for i, v in stored.items()} == {
            i: (o.interval_days, o.status) for i, o in run.observed.items()
        }
