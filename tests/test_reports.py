"""Reports render the warehouse's plain report data: HTML, JSON, CSV, markdown, index, files."""

from __future__ import annotations

import copy
import csv
import io
import json
import re
from datetime import UTC, datetime

import pytest

from wwc_pipeline.reports import (
    CSV_COLUMNS,
    ReportError,
    overall_line,
    render_csv,
    render_html,
    render_index,
    render_json,
    render_markdown,
    write_report,
)

PORTAL = "https://data.example.gov"
CHECKS = ["machine_readable", "open_format", "has_license", "has_description"]
LEVELS = ("Silver", "Gold", "Platinum")


def _criterion(cid, component, current, status, score, check_ids, evidence="", worst=()):
    return {
        "criterion_id": cid,
        "component": component,
        "current": current,
        "title": f"title of {cid}",
        "score": score,
        "status": status,
        "evidence": evidence or f"evidence for {cid}",
        "counts": {},
        "worst_datasets": list(worst),
        "portal_breakdown": {},
        "check_ids": check_ids,
    }


def _dataset(dataset_id, title, statuses, reasons=None):
    return {
        "portal": PORTAL,
        "dataset_id": dataset_id,
        "title": title,
        "checks": dict(zip(CHECKS, statuses, strict=True)),
        "reasons": reasons or {},
        "values": {"has_description": len(title)},
    }


def make_report() -> dict:
    """3 met, 2 partially met, 2 not met, 2 insufficient evidence, 2 not assessable by scan."""
    worst = [{"portal": PORTAL, "dataset_id": "bad-0001", "title": "Potholes", "failed": ["has_license"]}]
    criteria = [
        _criterion("COMMIT-OD-POLICY", "Commit", ["OD1"], "partially met", 50.0, ["portal.policy_document"]),
        _criterion("MEASURE-OD-PORTAL", "Measure", ["OD3"], "met", 100.0, ["harvest.catalog"]),
        _criterion(
            "MEASURE-OD-MACHINE", "Measure", ["OD3"], "met", 95.0, ["machine_readable", "open_format"]
        ),
        _criterion(
            "MEASURE-OD-LICENSE", "Measure", ["OD1", "OD3"], "not met", 33.3, ["has_license"], worst=worst
        ),
        _criterion("MEASURE-OD-METADATA", "Measure", ["DM2", "OD2"], "met", 90.0, ["has_description"]),
        _criterion(
            "MEASURE-OD-DICTIONARY", "Measure", ["OD2", "DM4"], "insufficient evidence", None, ["cols"]
        ),
        _criterion("TAKESTOCK-CADENCE", "Take Stock", ["DM4"], "partially met", 66.7, ["open_format"]),
        _criterion("TAKESTOCK-FRESH", "Take Stock", ["DM4"], "not met", 10.0, ["has_license"]),
        _criterion("TAKESTOCK-QUALITY", "Take Stock", ["DM4"], "insufficient evidence", None, []),
        _criterion("ACT-BUDGET", "Act", ["BF1"], "not assessable by scan", None, []),
        _criterion("ACT-EVALUATION", "Act", ["EVAL1"], "not assessable by scan", None, []),
    ]
    criteria[4]["evidence"] = "has_description: 2 of 3 | pass"
    datasets = [
        _dataset(
            "bad-0001", "Potholes", ["pass", "pass", "fail", "pass"], {"has_license": 'No "licence" field'}
        ),
        _dataset("xss-0002", "<script>alert(1)</script>", ["pass", "na", "pass", "pass"]),
        _dataset("frm-0003", '=HYPERLINK("http://x")', ["fail", "fail", "pass", "fail"]),
    ]
    portal_checks = [
        {
            "portal": PORTAL,
            "check_id": "portal.policy_document",
            "status": "fail",
            "value": {"score": 50},
            "reason": "policy page found, no document",
        },
        {
            "portal": PORTAL,
            "check_id": "harvest.catalog",
            "status": "pass",
            "value": {"score": 100},
            "reason": "catalog harvested: 3 datasets",
        },
    ]
    return {
        "city": {"id": "springfield", "name": "Springfield"},
        "run": {
            "id": "r42",
            "kind": "nightly",
            "trigger": "schedule",
            "status": "completed",
            "started_at": "2024-05-01T02:00:00+00:00",
            "finished_at": "2024-05-01T02:03:10+00:00",
            "as_of": "2024-05-01T02:00:00+00:00",
            "error": None,
        },
        "portals": [
            {
                "platform": "socrata",
                "url": PORTAL,
                "status": "harvested",
                "error": None,
                "assets": 4,
                "datasets": 3,
                "pages": 1,
            }
        ],
        "criteria": criteria,
        "datasets": datasets,
        "portal_checks": portal_checks,
    }


EXPECTED_LINE = (
    "3 of 9 assessable criteria met (evidence for OD3, DM2, OD2), 2 partially met, 2 not met, "
    "2 with insufficient evidence; 2 not assessable by scan."
)


def test_overall_line_counts_met_among_assessable_and_names_current_criteria():
    assert overall_line(make_report()) == EXPECTED_LINE


@pytest.mark.parametrize("status", ["met", "partially met", "not met", "insufficient evidence"])
def test_overall_line_never_claims_a_certification_level(status):
    report = make_report()
    for criterion in report["criteria"]:
        criterion["status"] = status
    line = overall_line(report)
    assert line.startswith(("11 of 11 assessable", "0 of 11 assessable"))
    assert not any(level.lower() in line.lower() for level in LEVELS)


def test_overall_line_edge_cases():
    one = {"criteria": [_criterion("A", "Measure", ["OD3"], "not met", 1.0, [])]}
    assert overall_line(one) == (
        "0 of 1 assessable criterion met, 0 partially met, 1 not met, 0 with insufficient evidence."
    )
    none = {"criteria": [_criterion("A", "Act", ["BF1"], "not assessable by scan", None, [])]}
    assert overall_line(none) == "No criterion could be assessed by scan."


def test_html_shows_every_criterion_overall_line_and_traceable_checks():
    page = render_html(make_report())
    assert EXPECTED_LINE in page
    for criterion in make_report()["criteria"]:
        assert criterion["criterion_id"] in page and criterion["title"] in page
        assert f'id="crit-{criterion["criterion_id"]}"' in page
    assert page.count('<details class="criterion"') == 11
    headings = [page.index(f"<h3>{name}</h3>") for name in ("Commit", "Measure", "Take Stock", "Act")]
    assert headings == sorted(headings)
    machine = page[page.index('id="crit-MEASURE-OD-MACHINE"') :]
    machine = machine[: machine.index("</details>")]
    for check_id in ("machine_readable", "open_format"):  # the checks that fed MEASURE-OD-MACHINE
        assert f'<td class="id">{check_id}</td>' in machine
    assert "policy page found, no document" in page  # portal check under COMMIT-OD-POLICY
    assert 'title="has_license: fail — No &#34;licence&#34; field' in page
    # most failures first: frm-0003 (3), Potholes (1), the script title (0); anchors: portal, position
    rows = re.findall(r'<tr id="(ds-[0-9-]+)">', page)
    assert rows == ["ds-0-2", "ds-0-0", "ds-0-1"]
    assert '<a href="#ds-0-0">Potholes</a>: has_license</li>' in page
    assert not any(level in page for level in LEVELS)


def test_html_escapes_portal_text_and_is_self_contained():
    page = render_html(make_report())
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # one inline script (the table's paging) and its JSON data: no source, link or import
    assert re.findall(r"<script[^>]*>", page) == [
        '<script type="application/json" id="dataset-data">',
        "<script>",
    ]
    assert "\\u003cscript\\u003ealert(1)" in page  # inert inside the JSON data too
    assert not re.search(r"<link|\ssrc=|@import|url\(", page)


def test_html_rejects_data_that_is_not_a_report():
    with pytest.raises(ReportError, match="city.id"):
        render_html({"run": {"id": 1}})


def test_csv_has_one_row_per_dataset_and_check_plus_portal_checks():
    rows = list(csv.DictReader(io.StringIO(render_csv(make_report()))))
    assert list(rows[0]) == list(CSV_COLUMNS)
    dataset_rows = [r for r in rows if r["level"] == "dataset"]
    portal_rows = [r for r in rows if r["level"] == "portal"]
    assert len(dataset_rows) == 3 * len(CHECKS)
    assert len(portal_rows) == 2
    row = next(r for r in dataset_rows if r["dataset_id"] == "bad-0001" and r["check_id"] == "has_license")
    assert (row["city"], row["run_id"], row["status"]) == ("springfield", "r42", "fail")
    assert row["reason"] == 'No "licence" field'
    assert row["criteria"] == "MEASURE-OD-LICENSE;TAKESTOCK-FRESH"
    formula = next(r for r in dataset_rows if r["dataset_id"] == "frm-0003")
    assert formula["title"] == '\'=HYPERLINK("http://x")'
    harvest = next(r for r in portal_rows if r["check_id"] == "harvest.catalog")
    assert (harvest["value_json"], harvest["value_number"], harvest["value_text"]) == (
        '{"score": 100}',
        "",
        "",
    )


def test_json_round_trips_with_the_overall_line():
    report = make_report()
    text = render_json(report)
    assert render_json(copy.deepcopy(report)) == text
    data = json.loads(text)
    assert data.pop("overall") == EXPECTED_LINE
    assert (data.pop("schema_version"), data.pop("generator")["name"]) == ("1.0", "wwc-pipeline")
    assert data.pop("status_counts")["not met"] == 2
    assert data.pop("key_datasets") is None
    for exported, original in zip(data.pop("criteria"), report.pop("criteria"), strict=True):
        assert {
            k: v for k, v in exported.items() if k not in ("counts", "thresholds", "what_would_change")
        } == {k: v for k, v in original.items() if k not in ("counts", "thresholds")}
        assert set(exported["counts"]) == {
            "applicable_datasets",
            "metrics",
            "portal_checks",
            "key_types",
            "totals",
        }
    assert data.pop("datasets") == [{**d, "link": None} for d in report.pop("datasets")]
    assert data == report


def test_json_writes_times_as_iso_text():
    report = make_report()
    report["run"]["as_of"] = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
    assert json.loads(render_json(report))["run"]["as_of"] == "2024-05-01T02:00:00+00:00"


def test_markdown_has_overall_line_and_criteria_table():
    text = render_markdown(make_report())
    assert f"**{EXPECTED_LINE}**" in text
    assert "| id | component | current | score | status | evidence |" in text
    assert (
        "| MEASURE-OD-LICENSE | Measure | OD1, OD3 | 33.3 | not met | evidence for MEASURE-OD-LICENSE |"
        in text
    )
    assert "| ACT-BUDGET | Act | BF1 | — | not assessable by scan |" in text
    assert "has_description: 2 of 3 \\| pass" in text
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 2 + 11  # header, separator, one row per criterion


def test_index_links_each_city_report_and_escapes():
    entries = [
        {
            "city_id": "springfield",
            "city_name": "Springfield",
            "run_id": "r42",
            "status": "completed",
            "overall": EXPECTED_LINE,
            "path": "springfield/r42.html",
        },
        {
            "city_id": "shelby",
            "city_name": "Shelby<b>ville",
            "run_id": 7,
            "status": "failed",
            "overall": "No criterion could be assessed by scan.",
            "path": "shelby/7.html",
        },
    ]
    page = render_index(entries)
    assert '<a href="springfield/r42.html">Springfield</a>' in page
    assert '<a href="shelby/7.html">Shelby&lt;b&gt;ville</a>' in page
    assert EXPECTED_LINE in page
    assert "No report yet" in render_index([])


def test_write_report_default_path_uses_wwc_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("WWC_DATA_DIR", str(tmp_path / "data"))
    for fmt in ("html", "json", "csv"):
        path = write_report(make_report(), fmt, None)
        assert path == tmp_path / "data" / "reports" / "springfield" / f"r42.{fmt}"
        assert path.is_file()
    assert (
        json.loads((tmp_path / "data/reports/springfield/r42.json").read_text())["overall"] == EXPECTED_LINE
    )
    assert sorted(p.name for p in path.parent.iterdir()) == ["r42.csv", "r42.html", "r42.json"]
    assert write_report(make_report(), "criteria.csv", None).name == "r42.criteria.csv"


def test_write_report_explicit_file_and_directory(tmp_path):
    target = write_report(make_report(), "csv", tmp_path / "out" / "x.csv")
    assert target == tmp_path / "out" / "x.csv" and target.read_text().startswith("city,run_id,")
    assert write_report(make_report(), "html", tmp_path) == tmp_path / "springfield-r42.html"


def test_write_report_rejects_bad_format_and_unsafe_ids(tmp_path, monkeypatch):
    monkeypatch.setenv("WWC_DATA_DIR", str(tmp_path))
    with pytest.raises(ReportError, match="unknown report format 'pdf'"):
        write_report(make_report(), "pdf", None)
    report = make_report()
    report["run"]["id"] = "../../etc"
    with pytest.raises(ReportError, match="run id"):
        write_report(report, "json", None)
    assert not any(tmp_path.iterdir())


def test_large_catalog_renders():
    """5,000 datasets x 12 checks: every format renders; the big table starts collapsed."""
    checks = [f"check_{n:02d}" for n in range(12)]
    statuses = ("pass", "fail", "na")
    report = make_report()
    report["criteria"][2]["check_ids"] = checks[:6]
    report["criteria"][4]["check_ids"] = checks[6:]
    report["datasets"] = [
        {
            "portal": PORTAL,
            "dataset_id": f"ds{i:05d}",
            "title": f"Dataset {i}",
            "checks": {c: statuses[(i + n) % 3] for n, c in enumerate(checks)},
            "reasons": {c: f"reason {n}" for n, c in enumerate(checks)},
            "values": {},
        }
        for i in range(5000)
    ]
    page = render_html(report)
    assert page.count('<tr id="ds-') == 200  # the first page; the script pages through the rest
    assert page.count('["ds-0-') == 5000  # every row in the table's data
    assert page.count("Showing the 50 with the most failures") == 2
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert sum(r["level"] == "dataset" for r in rows) == 5000 * 12
