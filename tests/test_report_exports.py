"""The report's formats agree with the warehouse, follow their contract, and explain each status.

Expected numbers are read from the warehouse tables directly (SQL), never from the report code.
"""

from __future__ import annotations

import csv
import io
import json
import re
from importlib import resources

import jsonschema
import pytest
from sqlalchemy import func, select

from wwc_pipeline.config import load_criteria
from wwc_pipeline.reports import render_criteria_csv, render_datasets_csv, render_html, render_json
from wwc_pipeline.reports.summary import overall_line
from wwc_pipeline.reports.thresholds import what_would_change
from wwc_pipeline.warehouse.models import CriterionScore, Snapshot
from wwc_pipeline.wording import plural


@pytest.fixture
def city(scanned_testville):
    return scanned_testville


def _scores_from_sql(city) -> dict[str, tuple]:
    with city.warehouse.engine.connect() as connection:
        rows = connection.execute(
            select(
                CriterionScore.criterion_id,
                CriterionScore.score,
                CriterionScore.status,
                CriterionScore.thresholds,
                CriterionScore.counts,
            ).where(CriterionScore.run_id == city.run_ids[-1])
        ).all()
    return {row.criterion_id: (row.score, row.status, row.thresholds, row.counts) for row in rows}


def test_html_json_and_both_csvs_agree_with_the_warehouse(city):
    report = city.warehouse.city_report(city.city_id)
    assert report["run"]["id"] == city.run_ids[-1]
    expected = _scores_from_sql(city)
    assert len(expected) == len(load_criteria().criteria)
    exported = json.loads(render_json(report))
    criteria_csv = list(csv.DictReader(io.StringIO(render_criteria_csv(report))))
    datasets_csv = list(csv.DictReader(io.StringIO(render_datasets_csv(report))))
    html = render_html(report)
    with city.warehouse.engine.connect() as connection:
        datasets = connection.execute(
            select(func.sum(Snapshot.datasets)).where(Snapshot.run_id == city.run_ids[-1])
        ).scalar_one()
    assert len(exported["datasets"]) == datasets
    assert len({(r["portal"], r["position"]) for r in datasets_csv if r["level"] == "dataset"}) == datasets
    by_id = {row["criterion_id"]: row for row in exported["criteria"]}
    csv_by_id = {row["criterion_id"]: row for row in criteria_csv}
    for criterion_id, (score, status, thresholds, counts) in expected.items():
        assert (by_id[criterion_id]["score"], by_id[criterion_id]["status"]) == (score, status)
        assert by_id[criterion_id]["thresholds"]["met"] == thresholds["met"]
        row = csv_by_id[criterion_id]
        assert (float(row["score"]) if row["score"] else None, row["status"]) == (score, status)
        if thresholds["kind"] != "not_assessable":
            assert (float(row["met_threshold"]), float(row["partial_threshold"])) == (
                thresholds["met"],
                thresholds["partial"],
            )
        # the HTML row of the criterion: its score, its status badge, its thresholds
        html_row = re.search(rf'<tr id="row-crit-{criterion_id}">(.*?)</tr>', html, re.S).group(1)
        assert f"<b>{'—' if score is None else f'{score:.1f}'}</b>" in html_row
        assert f">{status}</span>" in html_row
        if thresholds["kind"] != "not_assessable":
            assert f"met ≥ {thresholds['met']:g} · partial ≥ {thresholds['partial']:g}" in html_row
        # every metric's fail count in the warehouse is the number of failing rows in datasets.csv
        for metric, tally in counts.items():
            if isinstance(tally, dict) and "fail" in tally:
                failing = sum(1 for r in datasets_csv if r["check_id"] == metric and r["status"] == "fail")
                assert failing == tally["fail"], (criterion_id, metric)
    assert exported["overall"] == overall_line(report)
    assert overall_line(report) in html


def test_the_json_report_validates_against_the_schema_shipped_with_the_package(city):
    schema = json.loads(resources.files("wwc_pipeline").joinpath("schemas/report.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    for run_id in city.run_ids:  # the first run (no previous one) as well as the later ones
        data = json.loads(render_json(city.warehouse.city_report(city.city_id, run_id)))
        jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
        assert data["schema_version"] == "1.0" and data["generator"]["name"] == "wwc-pipeline"
    broken = json.loads(render_json(city.warehouse.city_report(city.city_id)))
    broken["criteria"][0]["counts"] = {"pass": 1}  # the old, second shape of counts
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema, cls=jsonschema.Draft202012Validator)


def test_the_trend_has_one_point_per_run_and_the_changes_name_the_previous_run(city):
    report = city.warehouse.city_report(city.city_id)
    assert [p["run_id"] for p in report["score_trend"]] == city.run_ids
    since = report["since_previous"]
    assert since["previous_run"]["id"] == city.run_ids[-2]
    # age_catalogs removed round(60 * 0.005) -> 1 dataset and added 1 on the last night
    assert since["counts"]["datasets_added"] == 1 and since["counts"]["datasets_removed"] == 1
    first = city.warehouse.city_report(city.city_id, city.run_ids[0])
    assert first["since_previous"] == {"previous_run": None}
    assert [p["run_id"] for p in first["score_trend"]] == city.run_ids[:1]


def test_datasets_csv_has_typed_value_columns(city):
    rows = list(csv.DictReader(io.StringIO(render_datasets_csv(city.warehouse.city_report(city.city_id)))))
    assert {"value_number", "value_text", "value_json"} <= set(rows[0]) and "value" not in rows[0]
    kinds = set()
    for row in rows:
        filled = [name for name in ("value_number", "value_text", "value_json") if row[name]]
        assert len(filled) <= 1
        if row["value_number"]:
            float(row["value_number"])
        if row["value_json"]:
            assert isinstance(json.loads(row["value_json"]), dict | list)
        kinds.update(filled)
    assert kinds == {"value_number", "value_text", "value_json"}
    assert all(r["landing_page"].startswith("http") for r in rows if r["level"] == "dataset")


def test_thresholds_travel_with_the_scores_of_each_run(tmp_path):
    """A run scored under other cut-offs keeps them: its report shows the rules of its own day."""
    from wwc_pipeline.config import CityConfig, PortalConfig
    from wwc_pipeline.http import HttpClient
    from wwc_pipeline.pipeline import scan_city
    from wwc_pipeline.simulator import GeneratedCatalog, PortalSimulator
    from wwc_pipeline.warehouse import Warehouse

    warehouse = Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    warehouse.migrate()
    default = load_criteria()
    strict = default.model_copy(
        update={
            "criteria": [
                c.model_copy(update={"met": 99.0, "partial": 95.0}) if c.id == "MEASURE-OD-LICENSE" else c
                for c in default.criteria
            ]
        }
    )
    with PortalSimulator() as simulator:
        portal = simulator.add_portal(platform="socrata", catalog=GeneratedCatalog(size=20, seed=3))
        # no rows sampled (25 datasets' rows by default, validated twice): the thresholds are of a
        # metadata criterion, and content.quality is not what this test is about
        config = PortalConfig(platform="socrata", url=portal.url, sample_datasets=0)
        city = CityConfig(id="t", name="T", portals=[config])
        runs = []
        for criteria in (strict, default):
            with HttpClient(min_interval=0) as client:
                runs.append(scan_city(city, warehouse=warehouse, criteria=criteria, client=client).run_id)
    shown = []
    for run_id in runs:
        report = warehouse.city_report("t", run_id)
        licence = next(c for c in report["criteria"] if c["criterion_id"] == "MEASURE-OD-LICENSE")
        shown.append((licence["thresholds"]["met"], licence["thresholds"]["partial"]))
        assert f"met ≥ {licence['thresholds']['met']:g}" in render_html(report)
    configured = next(c for c in default.criteria if c.id == "MEASURE-OD-LICENSE")
    assert shown == [(99.0, 95.0), (configured.met, configured.partial)]
    warehouse.dispose()


def test_what_would_change_counts_the_fewest_datasets():
    # worked by hand: score = 100 * (has_license share + open_license share) / 2, met at 90.
    # open_license gains more per dataset (1/66 > 1/120): all 18 of its fails, giving 1.0; then
    # has_license needs 0.8 -> 96 of 120 -> 30 more (95 gives 89.6); 17 + 32 would be more.
    criterion = {
        "status": "partially met",
        "check_ids": ["has_license", "open_license"],
        "counts": {
            "applicable_datasets": 120,
            "has_license": {"pass": 66, "fail": 54, "na": 0, "share": 0.55},
            "open_license": {"pass": 48, "fail": 18, "na": 54, "share": 0.7273},
        },
        "thresholds": {
            "kind": "metrics",
            "met": 90,
            "partial": 50,
            "min_datasets": 5,
            "weights": {"has_license": 1, "open_license": 1},
        },
    }
    assert what_would_change(criterion) == (
        "18 more datasets with an open licence and 30 more datasets with a licence would make this met."
    )
    few = {**criterion, "status": "insufficient evidence", "counts": {"applicable_datasets": 2}}
    assert (
        what_would_change(few)
        == "3 more applicable datasets would give enough evidence to judge this (5 needed, min_datasets)."
    )


def test_the_overall_line_names_every_status():
    statuses = ["met"] * 7 + ["partially met"] * 5 + ["not met"] * 2 + ["not assessable by scan"]
    report = {"criteria": [{"status": s, "current": ["OD3"]} for s in statuses]}
    assert overall_line(report) == (
        "7 of 14 assessable criteria met (evidence for OD3), 5 partially met, 2 not met,"
        " 0 with insufficient evidence; 1 not assessable by scan."
    )
    assert (
        plural(1, "catalog entry") == "1 catalog entry" and plural(2, "catalog entry") == "2 catalog entries"
    )
    assert plural(1, "asset") == "1 asset" and plural(3, "asset") == "3 assets"


def test_report_all_writes_every_format_and_the_index(city, tmp_path):
    from typer.testing import CliRunner

    from wwc_pipeline.cli import app

    runner = CliRunner()
    env = {"WWC_DATABASE_URL": city.warehouse.url}
    result = runner.invoke(app, ["report", "--all", "--out", str(tmp_path)], env=env)
    assert result.exit_code == 0, result.output
    run = city.run_ids[-1]
    for fmt in ("html", "json", "criteria.csv", "datasets.csv", "keydata.csv"):
        assert (tmp_path / "reports" / city.city_id / f"{run}.{fmt}").stat().st_size > 0
    index = (tmp_path / "index.html").read_text()
    assert f'href="reports/{city.city_id}/{run}.html"' in index
    assert index.count('<td class="cell ') == len(load_criteria().criteria)
    neither = runner.invoke(app, ["report"], env=env)
    assert neither.exit_code == 2 and "--all" in neither.output
