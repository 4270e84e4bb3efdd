"""Incremental re-scans give the evidence a full recompute gives.

Four simulated portals, one city, two nights. Between the nights one portal changes (a dataset
updated, one added, one removed) and the others do not. Night two runs twice against the same
portals: into a warehouse that revalidates the previous pages (304 -> the previous records) and
into one that harvests everything again. Scores, the check results behind every criterion and
the snapshots' entries must be the same; the unchanged portals with validators must not have
served a page, and the one without (CKAN), harvested again, must reuse its results too.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, make_url, text

from wwc_pipeline import incremental, portal_evaluation
from wwc_pipeline.config import CityConfig, PortalConfig, load_criteria
from wwc_pipeline.http import HttpClient
from wwc_pipeline.pipeline import scan_city
from wwc_pipeline.simulator.national import NationalSimulator
from wwc_pipeline.simulator.national_plan import national_plan
from wwc_pipeline.warehouse import Warehouse

NIGHT_1 = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)
NIGHT_2 = NIGHT_1 + timedelta(days=40)  # far enough for some datasets to turn stale
# every way a portal may (not) send validators, one platform each
MODES = {"dcat": "etag", "socrata": "last-modified", "ckan": "none", "opendatasoft": "both"}
QUIET = {"sample_datasets": 0, "check_links": 0}


def scan(warehouse: Warehouse, city: CityConfig, as_of: datetime) -> int:
    with HttpClient(min_interval=0) as client:
        result = scan_city(city, warehouse=warehouse, criteria=load_criteria(), client=client, as_of=as_of)
    assert result.status == "succeeded", result
    return result.run_id


def evidence(warehouse: Warehouse, city_id: str, run_id: int) -> dict:
    """Everything a reviewer sees of a run, without run ids and times."""
    report = warehouse.city_report(city_id, run_id)
    scores = {row["criterion_id"]: row for row in report["criteria"]}
    traced = {
        criterion: sorted(
            warehouse.score_check_results(run_id, criterion), key=lambda r: repr(sorted(r.items()))
        )
        for criterion in scores
    }
    datasets = sorted(report["datasets"], key=lambda d: (d.get("portal", ""), repr(d)))
    return {"scores": scores, "traced": traced, "datasets": datasets}


def snapshot_entries(warehouse: Warehouse, run_id: int) -> list[tuple]:
    from sqlalchemy import text

    with warehouse.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT p.url, e.position, d.dataset_id, d.occurrence, v.content_hash, e.flags "
                "FROM snapshots s JOIN portals p ON p.id = s.portal_id "
                "JOIN snapshot_entries e ON e.entry_list_id = s.entry_list_id "
                "JOIN datasets d ON d.id = e.dataset_id "
                "JOIN dataset_versions v ON v.id = e.dataset_version_id "
                "WHERE s.run_id = :run"
            ),
            {"run": run_id},
        ).all()
    # flags: a list from PostgreSQL's JSONB, JSON text from SQLite
    return sorted((*row[:-1], json.loads(row[-1]) if isinstance(row[-1], str) else row[-1]) for row in rows)


def fresh_warehouse(url: str) -> Warehouse:
    from wwc_pipeline.warehouse.models import Base

    warehouse = Warehouse(url)
    Base.metadata.drop_all(warehouse.engine)
    with warehouse.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    warehouse.migrate()
    return warehouse


def full_recompute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(incremental, "unchanged_snapshot", lambda *args: None)
    monkeypatch.setattr(incremental, "same_answers", lambda portal, snapshot, *args: snapshot)


def check_rescan_matches_full_recompute(urls: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    incremental_wh, full_wh = (fresh_warehouse(url) for url in urls)
    plan = national_plan(20, datasets=800, seed=11, as_of=NIGHT_1, conditional=MODES)
    with NationalSimulator(plan, latency_s=0.0) as sim:
        chosen = {}
        for hosted in sim.portals:  # the first portal of each platform
            chosen.setdefault(hosted.platform, hosted)
        assert sorted(chosen) == sorted(MODES)
        portals = [PortalConfig(platform=p.platform, url=p.url, **QUIET) for p in chosen.values()]
        city = CityConfig(id="nation", name="Nation", portals=portals)
        scan(incremental_wh, city, NIGHT_1)
        scan(full_wh, city, NIGHT_1)
        changed = chosen["socrata"]
        changed.touch(1, at=NIGHT_2 - timedelta(days=1))
        changed.add(1, at=NIGHT_2 - timedelta(days=1))
        changed.remove(1)
        sim.reset_counters()
        kept = []  # portals whose version metrics were reused (only the as-of ones computed)
        as_of_only = portal_evaluation.evaluate_as_of_metrics
        with monkeypatch.context() as spied:
            spied.setattr(
                portal_evaluation, "evaluate_as_of_metrics", lambda *a: kept.append(a[3]) or as_of_only(*a)
            )
            rescan = scan(incremental_wh, city, NIGHT_2)
        served = {p.platform: (p.served - p.not_modified, p.not_modified) for p in chosen.values()}
        with monkeypatch.context() as patched:
            full_recompute(patched)
            full = scan(full_wh, city, NIGHT_2)
    # the unchanged portals with validators answered 304 to every page and served none
    assert served["dcat"][0] == 0 and served["dcat"][1] >= 1, served
    assert served["opendatasoft"][0] == 0 and served["opendatasoft"][1] >= 1, served
    assert served["ckan"][0] >= 1 and served["ckan"][1] == 0, served  # no validators: harvested
    assert served["socrata"][0] >= 1, served  # changed: harvested again
    # dcat and opendatasoft (304) and ckan (harvested, the same answers as before): not socrata
    assert sorted(kept) == sorted(portal.domain for portal in portals if portal.platform != "socrata"), kept
    assert evidence(incremental_wh, "nation", rescan) == evidence(full_wh, "nation", full)
    assert snapshot_entries(incremental_wh, rescan) == snapshot_entries(full_wh, full)
    for warehouse in (incremental_wh, full_wh):
        warehouse.dispose()


def test_rescan_matches_full_recompute_on_sqlite(tmp_path, monkeypatch):
    urls = (f"sqlite:///{tmp_path / 'incremental.db'}", f"sqlite:///{tmp_path / 'full.db'}")
    check_rescan_matches_full_recompute(urls, monkeypatch)


@pytest.mark.postgres
def test_rescan_matches_full_recompute_on_postgresql(postgres_url, tmp_path, monkeypatch):
    # in a schema of its own (search_path set per connection), not the shared database's public
    # schema, which another test run (or xdist worker) may use at the same time
    schema = f"wwc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        # the full recompute in SQLite: the two must agree across databases too
        urls = (url.render_as_string(hide_password=False), f"sqlite:///{tmp_path / 'full.db'}")
        check_rescan_matches_full_recompute(urls, monkeypatch)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_every_version_metric_ignores_the_as_of_time(tmp_path):
    """What makes reuse per dataset version sound: a metric outside AS_OF_METRICS answers the same
    for the same record at any as-of time (records of four platforms, ten years apart)."""
    from wwc_pipeline.evaluate import metric_checks

    warehouse = fresh_warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    plan = national_plan(20, datasets=800, seed=11, as_of=NIGHT_1, conditional="both")
    with NationalSimulator(plan, latency_s=0.0) as sim:
        chosen = {}
        for hosted in sim.portals:
            chosen.setdefault(hosted.platform, hosted)
        portals = [PortalConfig(platform=p.platform, url=p.url, **QUIET) for p in chosen.values()]
        run_id = scan(warehouse, CityConfig(id="n", name="N", portals=portals), NIGHT_1)
    from sqlalchemy import text

    with warehouse.engine.connect() as connection:
        query = text("SELECT id FROM snapshots WHERE run_id = :run AND harvest_replay IS NOT NULL")
        snapshot_ids = connection.execute(query, {"run": run_id}).scalars().all()
    assert len(snapshot_ids) == 4
    records = [record for pk in snapshot_ids for record in warehouse.reused_snapshot(pk).datasets]
    assert len(records) > 100
    checks = metric_checks()
    later = NIGHT_1 + timedelta(days=3653)
    for name in incremental.version_metrics():
        for record in records:
            assert checks[name](record, NIGHT_1) == checks[name](record, later), (name, record.dataset_id)
    changed = [r for r in records if checks["fresh"](r, NIGHT_1) != checks["fresh"](r, later)]
    assert changed  # and `fresh` does depend on it


def test_the_score_artifact_reads_no_datasets_and_says_the_same(scanned_testville):
    """publish_scores renders the cheap score report: the same markdown as from the whole report."""
    from wwc_pipeline.reports import render_markdown

    city = scanned_testville
    for run_id in city.run_ids:
        light = city.warehouse.score_report(city.city_id, run_id)
        assert "datasets" not in light
        assert render_markdown(light) == render_markdown(city.warehouse.city_report(city.city_id, run_id))
