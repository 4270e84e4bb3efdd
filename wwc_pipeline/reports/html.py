"""The HTML evidence page and the index page, from plain report data.

The page is one self-contained file (inline CSS, no scripts, no external assets). The view data
is prepared here, in plain Python, so that the template only loops: a 5,000 x 12 dataset table
renders in about a second. Autoescape is on: titles and reasons come from public portals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from wwc_pipeline import __version__
from wwc_pipeline.reports.history import history_view
from wwc_pipeline.reports.keydata import key_datasets_view
from wwc_pipeline.reports.quality import quality_samples
from wwc_pipeline.reports.summary import (
    COMPONENTS,
    NOT_ASSESSABLE,
    ReportError,
    check_order,
    check_report,
    criteria_by_check,
    current_ids,
    format_score,
    format_time,
    format_value,
    overall_line,
    slug,
)

DETAIL_LIMIT = 200  # datasets listed under one criterion; all of them are in the dataset table
OPEN_TABLE_LIMIT = 1000  # larger dataset tables start collapsed so the page opens quickly
_RUN_FIELDS = ("id", "kind", "trigger", "status", "started_at", "finished_at", "as_of", "error")
_CELL = {"pass": ("✓", "pass"), "fail": ("✗", "fail"), "na": ("–", "na")}


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("wwc_pipeline", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )


def _cell(dataset: Mapping, check_id: str) -> tuple[str, str, str]:
    """(symbol, css class, tooltip) of one dataset x check cell."""
    status = (dataset.get("checks") or {}).get(check_id)
    if status is None:
        return "", "none", f"{check_id}: not run for this dataset"
    symbol, css = _CELL.get(status, ("?", "none"))
    tooltip = f"{check_id}: {status}"
    reason = (dataset.get("reasons") or {}).get(check_id)
    if reason:
        tooltip += f" — {reason}"
    value = (dataset.get("values") or {}).get(check_id)
    if value is not None:
        tooltip += f" (value: {format_value(value)[:200]})"
    return symbol, css, tooltip


def _key(dataset: Mapping) -> tuple:
    """A dataset's identity in a city report: its portal and its id there."""
    return (dataset.get("portal"), dataset.get("dataset_id"))


def _failures(dataset: Mapping, check_ids: list[str] | None = None) -> int:
    checks = dataset.get("checks") or {}
    ids = checks if check_ids is None else check_ids
    return sum(1 for check_id in ids if checks.get(check_id) == "fail")


def _dataset_row(dataset: Mapping, anchor: str, check_ids: list[str]) -> dict:
    return {
        "anchor": anchor,
        "portal": dataset.get("portal") or "",
        "dataset_id": dataset.get("dataset_id") or "",
        "title": dataset.get("title") or "(untitled)",
        "fails": _failures(dataset, check_ids),
        "cells": [_cell(dataset, check_id) for check_id in check_ids],
    }


def _describe_counts(counts: Mapping) -> list[str]:
    """Scoring counts as readable lines: `name: k=v, k=v` for nested dicts."""
    lines = []
    for key, value in counts.items():
        if isinstance(value, Mapping):
            inner = ", ".join(f"{k}={format_value(v) or '—'}" for k, v in value.items())
            lines.append(f"{key}: {inner}")
        else:
            lines.append(f"{key}: {format_value(value) or '—'}")
    return lines


def _check_counts(report: Mapping, check_ids: list[str]) -> list[dict]:
    """Per check fed into a criterion: dataset pass / fail / n/a counts, or the portal results."""
    dataset_counts: dict[str, Counter] = {check_id: Counter() for check_id in check_ids}
    for dataset in report.get("datasets") or []:
        checks = dataset.get("checks") or {}
        for check_id in check_ids:
            if check_id in checks:
                dataset_counts[check_id][checks[check_id]] += 1
    portal_counts: dict[str, Counter] = {check_id: Counter() for check_id in check_ids}
    for row in report.get("portal_checks") or []:
        if row.get("check_id") in portal_counts:
            portal_counts[row["check_id"]][row.get("status")] += 1
    rows = []
    for check_id in check_ids:
        level, counts = "dataset", dataset_counts[check_id]
        if not counts and portal_counts[check_id]:
            level, counts = "portal", portal_counts[check_id]
        rows.append(
            {
                "check_id": check_id,
                "level": level if counts else "no results",
                **{s: counts[s] for s in _CELL},
            }
        )
    return rows


def _harvest_warnings(report: Mapping) -> list[dict]:
    """Every portal's harvest warnings, as (portal, warning) rows."""
    return [
        {"portal": portal.get("url") or "", "warning": str(warning)}
        for portal in report.get("portals") or []
        for warning in portal.get("warnings") or []
    ]


def _criterion_view(report: Mapping, criterion: Mapping, anchors: dict, order: list[str]) -> dict:
    check_ids = [str(c) for c in criterion.get("check_ids") or []]
    dataset_checks = [c for c in check_ids if c in order]
    relevant = []
    if dataset_checks:
        for dataset in report.get("datasets") or []:
            checks = dataset.get("checks") or {}
            if any(c in checks for c in dataset_checks):
                relevant.append(dataset)
    relevant.sort(key=lambda d: (-_failures(d, dataset_checks), str(d.get("title") or "")))
    failing = sum(1 for d in relevant if _failures(d, dataset_checks))
    shown = relevant[:DETAIL_LIMIT]
    worst = [
        {
            "portal": item.get("portal") or "",
            "dataset_id": item.get("dataset_id") or "",
            "title": item.get("title") or "(untitled)",
            "failed": ", ".join(str(check) for check in item.get("failed") or []),
            "anchor": anchors.get(_key(item), ""),
        }
        for item in criterion.get("worst_datasets") or []
    ]
    return {
        "id": str(criterion.get("criterion_id")),
        "anchor": "crit-" + slug(criterion.get("criterion_id")),
        "component": criterion.get("component") or "",
        "current": ", ".join(current_ids(criterion)),
        "title": criterion.get("title") or "",
        "score": format_score(criterion.get("score")),
        "status": criterion.get("status") or "unknown",
        "status_class": slug(criterion.get("status") or "unknown"),
        "evidence": criterion.get("evidence") or "",
        "counts": _describe_counts(criterion.get("counts") or {}),
        "check_ids": check_ids,
        "check_counts": _check_counts(report, check_ids),
        "breakdown": [
            {
                "portal": portal,
                "score": format_score((part or {}).get("score")),
                "status": (part or {}).get("status") or "unknown",
                "status_class": slug((part or {}).get("status") or "unknown"),
            }
            for portal, part in (criterion.get("portal_breakdown") or {}).items()
        ],
        "portal_results": [r for r in _portal_checks(report) if r["check_id"] in check_ids],
        "worst": worst,
        "dataset_checks": dataset_checks,
        "rows": [_dataset_row(d, anchors.get(_key(d), ""), dataset_checks) for d in shown],
        "relevant": len(relevant),
        "failing": failing,
        "samples": quality_samples(report, check_ids, anchors),
        # every assessable criterion rests on every harvested portal of the city
        "warnings": _harvest_warnings(report) if criterion.get("status") != NOT_ASSESSABLE else [],
    }


def _blank(value: Any) -> Any:
    return "" if value is None else value


def _portal_checks(report: Mapping) -> list[dict]:
    """Portal-level check rows with every field present and the value as text."""
    return [
        {
            "portal": row.get("portal") or "",
            "check_id": str(row.get("check_id") or ""),
            "status": row.get("status") or "",
            "status_class": _CELL.get(row.get("status"), ("", "none"))[1],
            "value": format_value(row.get("value")),
            "reason": row.get("reason") or "",
        }
        for row in report.get("portal_checks") or []
    ]


def _groups(criteria: list[dict]) -> list[dict]:
    """Criteria grouped by 2017 component, in the standard's order; unknown components last."""
    names = list(COMPONENTS) + sorted({c["component"] for c in criteria} - set(COMPONENTS))
    groups = [
        {"component": name, "criteria": [c for c in criteria if c["component"] == name]} for name in names
    ]
    return [group for group in groups if group["criteria"]]


def html_context(report: Mapping) -> dict:
    """Everything the page template shows, as plain values."""
    check_report(report)
    order = check_order(report)
    datasets = sorted(
        report.get("datasets") or [],
        key=lambda d: (-_failures(d), str(d.get("portal") or ""), str(d.get("title") or "")),
    )
    anchors: dict[tuple, str] = {}
    for index, dataset in enumerate(datasets):
        anchors.setdefault(_key(dataset), f"ds-{index}")
    criteria = [_criterion_view(report, c, anchors, order) for c in report.get("criteria") or []]
    feeds = criteria_by_check(report)
    status_counts = Counter(c["status"] for c in criteria)
    run = dict(report["run"])
    for key in ("started_at", "finished_at", "as_of"):
        run[key] = format_time(run.get(key))
    portals = [
        {
            **{
                key: _blank(portal.get(key))
                for key in ("platform", "url", "status", "error", "assets", "datasets", "pages")
            },
            "status_class": slug(portal.get("status") or "unknown"),
            "warnings": [str(warning) for warning in portal.get("warnings") or []],
        }
        for portal in report.get("portals") or []
    ]
    return {
        "city": {"id": report["city"]["id"], "name": report["city"].get("name") or report["city"]["id"]},
        "run": {key: _blank(run.get(key)) for key in _RUN_FIELDS},
        "run_status_class": slug(run.get("status") or "unknown"),
        "portals": portals,
        "multi_portal": len(portals) > 1 or len({d.get("portal") for d in datasets}) > 1,
        "overall": overall_line(report),
        "status_counts": sorted(status_counts.items()),
        "groups": _groups(criteria),
        "criteria": criteria,
        "check_ids": order,
        "check_feeds": {check_id: ", ".join(feeds.get(check_id, [])) for check_id in order},
        "datasets": [_dataset_row(d, f"ds-{i}", order) for i, d in enumerate(datasets)],
        "open_table": len(datasets) <= OPEN_TABLE_LIMIT,
        "portal_checks": _portal_checks(report),
        "detail_limit": DETAIL_LIMIT,
        "version": __version__,
        "key_datasets": key_datasets_view(report),
        "history": history_view(report),
    }


def render_html(report: Mapping) -> str:
    """One self-contained evidence page for one city and run."""
    return _environment().get_template("report.html.j2").render(html_context(report))


def render_index(entries: list[Mapping[str, Any]]) -> str:
    """index.html linking each city's latest report: city, run, run status, overall line."""
    rows = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise ReportError(f"index entry must be a dict, not {type(entry).__name__}")
        rows.append(
            {
                "city_id": entry.get("city_id") or "",
                "city_name": entry.get("city_name") or entry.get("city_id") or "",
                "run_id": "" if entry.get("run_id") is None else entry["run_id"],
                "status": entry.get("status") or "unknown",
                "status_class": slug(entry.get("status") or "unknown"),
                "overall": entry.get("overall") or "",
                "path": str(entry.get("path") or ""),
            }
        )
    return _environment().get_template("index.html.j2").render(entries=rows, version=__version__)
