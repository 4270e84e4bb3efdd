"""The exports with a contract: JSON (schemas/report.schema.json) and two typed CSV files
(schemas/csv-headers.md): criteria, one row per criterion; datasets, one row per dataset and check
(then the portal-level checks). `keydata.csv` (reports/keydata.py) is the third file.

The JSON carries `schema_version` (bumped on any change a reader must know about), the
generator's version, each criterion's thresholds, and `counts` in one shape (reports/counts.py).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from wwc_pipeline import __version__
from wwc_pipeline.reports.counts import normalized_counts
from wwc_pipeline.reports.keydata import key_datasets_data, web_link
from wwc_pipeline.reports.summary import (
    check_order,
    check_report,
    criteria_by_check,
    current_ids,
    overall_line,
    status_counts,
    to_jsonable,
)
from wwc_pipeline.reports.thresholds import rules, what_would_change

SCHEMA_VERSION = "1.0"
CRITERIA_COLUMNS = (
    "city",
    "run_id",
    "as_of",
    "criterion_id",
    "component",
    "current",
    "title",
    "kind",
    "score",
    "status",
    "met_threshold",
    "partial_threshold",
    "min_datasets",
    "applicable_datasets",
    "evidence",
    "what_would_change",
    "check_ids",
)
DATASET_COLUMNS = (
    "city",
    "run_id",
    "level",
    "portal",
    "position",
    "dataset_id",
    "occurrence",
    "title",
    "landing_page",
    "check_id",
    "status",
    "reason",
    "value_number",
    "value_text",
    "value_json",
    "criteria",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_data(report: Mapping) -> dict[str, Any]:
    """The JSON report as plain data: the report, plus its contract fields."""
    check_report(report)
    portals = [p.get("url") for p in report.get("portals") or [] if p.get("url")]
    criteria = []
    for criterion in report.get("criteria") or []:
        stored = rules(criterion)
        criteria.append(
            {
                **criterion,
                "thresholds": stored,
                "counts": normalized_counts(criterion.get("counts"), portals),
                "what_would_change": what_would_change(criterion) or None,
            }
        )
    datasets = [{**d, "link": web_link(d.get("landing_page"))} for d in report.get("datasets") or []]
    return {
        **report,
        "schema_version": SCHEMA_VERSION,
        "generator": {"name": "wwc-pipeline", "version": __version__},
        "overall": overall_line(report),
        "status_counts": dict(status_counts(report.get("criteria") or [])),
        "criteria": criteria,
        "datasets": datasets,
        "key_datasets": key_datasets_data(report),
    }


def render_json(report: Mapping) -> str:
    """Stable indented JSON (sorted keys, ISO times) of `export_data`."""
    data = export_data(report)
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=to_jsonable) + "\n"


def cell(text: Any) -> str:
    """Text from a portal, made inert for spreadsheets: a leading =, +, -, @ gets a quote."""
    text = "" if text is None else str(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _number(value: Any) -> str:
    return "" if value is None else f"{float(value):g}" if isinstance(value, float) else str(value)


def render_criteria_csv(report: Mapping) -> str:
    """One row per criterion: score, status, the thresholds it was judged by, evidence."""
    check_report(report)
    city, run = report["city"]["id"], report["run"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CRITERIA_COLUMNS)
    for criterion in report.get("criteria") or []:
        stored = rules(criterion) or {}
        counts = criterion.get("counts") or {}
        writer.writerow(
            (
                city,
                run["id"],
                run.get("as_of") or "",
                criterion.get("criterion_id"),
                criterion.get("component") or "",
                ";".join(current_ids(criterion)),
                criterion.get("title") or "",
                stored.get("kind") or "",
                _number(criterion.get("score")),
                criterion.get("status") or "",
                _number(stored.get("met")),
                _number(stored.get("partial")),
                _number(stored.get("min_datasets")) if stored.get("kind") == "metrics" else "",
                _number(counts.get("applicable_datasets")),
                cell(criterion.get("evidence")),
                what_would_change(criterion),
                ";".join(criterion.get("check_ids") or []),
            )
        )
    return buffer.getvalue()


def typed_value(value: Any) -> tuple[str, str, str]:
    """(value_number, value_text, value_json): a number, a text (a list of texts joined by "; "),
    or anything else as JSON; exactly one is filled when the value is not null."""
    if value is None:
        return "", "", ""
    if isinstance(value, bool):
        return ("1" if value else "0"), "", ""
    if isinstance(value, int | float):
        return _number(value), "", ""
    if isinstance(value, str):
        return "", cell(value), ""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return "", cell("; ".join(value)), ""
    return "", "", json.dumps(value, default=to_jsonable, ensure_ascii=False, sort_keys=True)


def render_datasets_csv(report: Mapping, include_portal_checks: bool = True) -> str:
    """One row per dataset x check (the checks each dataset carries), then the portal-level checks."""
    check_report(report)
    city, run_id = report["city"]["id"], report["run"]["id"]
    order = check_order(report)
    feeds = criteria_by_check(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(DATASET_COLUMNS)
    for dataset in report.get("datasets") or []:
        checks = dataset.get("checks") or {}
        for check_id in (c for c in order if c in checks):
            writer.writerow(
                (
                    city,
                    run_id,
                    "dataset",
                    dataset.get("portal") or "",
                    _number(dataset.get("position")),
                    cell(dataset.get("dataset_id")),
                    _number(dataset.get("occurrence")),
                    cell(dataset.get("title")),
                    web_link(dataset.get("landing_page")) or "",
                    check_id,
                    checks[check_id],
                    cell((dataset.get("reasons") or {}).get(check_id)),
                    *typed_value((dataset.get("values") or {}).get(check_id)),
                    ";".join(feeds.get(check_id, [])),
                )
            )
    if include_portal_checks:
        for row in report.get("portal_checks") or []:
            check_id = row.get("check_id") or ""
            writer.writerow(
                (
                    city,
                    run_id,
                    "portal",
                    row.get("portal") or "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    check_id,
                    row.get("status") or "",
                    cell(row.get("reason")),
                    *typed_value(row.get("value")),
                    ";".join(feeds.get(check_id, [])),
                )
            )
    return buffer.getvalue()
