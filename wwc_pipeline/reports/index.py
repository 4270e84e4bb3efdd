"""The index across cities: one row per city, one column per criterion (status and score), the date
of the run, a link to the city's report. Sortable by a small inline script; without scripts
the rows stay in city order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wwc_pipeline import __version__
from wwc_pipeline.reports.html import environment
from wwc_pipeline.reports.summary import STATUS_LEGEND, ReportError, format_score, overall_line, slug

STATUS_ORDER = {status: rank for rank, status in enumerate(STATUS_LEGEND)}  # sort key: met first


def index_entry(report: Mapping, path: str = "") -> dict[str, Any]:
    """What the index shows of one city's report."""
    run = report.get("run") or {}
    return {
        "city_id": report["city"]["id"],
        "city_name": report["city"].get("name") or report["city"]["id"],
        "run_id": run.get("id"),
        "as_of": run.get("as_of"),
        "status": run.get("status"),
        "overall": overall_line(report),
        "path": path,
        "criteria": {
            c["criterion_id"]: {"status": c.get("status"), "score": c.get("score"), "title": c.get("title")}
            for c in report.get("criteria") or []
        },
    }


def render_index(entries: list[Mapping[str, Any]]) -> str:
    """index.html: every city with its run date, run status, overall line and criterion statuses."""
    rows, columns, titles = [], [], {}
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise ReportError(f"index entry must be a dict, not {type(entry).__name__}")
        for criterion_id, cell in (entry.get("criteria") or {}).items():
            if criterion_id not in titles:
                columns.append(criterion_id)
                titles[criterion_id] = (cell or {}).get("title") or criterion_id
    for entry in entries:
        criteria = entry.get("criteria") or {}
        cells = []
        for criterion_id in columns:
            cell = criteria.get(criterion_id) or {}
            status = cell.get("status") or "—"
            cells.append(
                {
                    "status": status,
                    "status_class": slug(status),
                    "score": format_score(cell.get("score")),
                    "sort": f"{STATUS_ORDER.get(status, 9)}:{999 - float(cell.get('score') or 0):07.1f}",
                    "tip": f"{criterion_id}: {status}, score {format_score(cell.get('score'))}",
                }
            )
        met = sum(1 for c in criteria.values() if (c or {}).get("status") == "met")
        rows.append(
            {
                "city_id": entry.get("city_id") or "",
                "city_name": entry.get("city_name") or entry.get("city_id") or "",
                "run_id": "" if entry.get("run_id") is None else entry["run_id"],
                "date": str(entry.get("as_of") or "")[:10] or "—",
                "status": entry.get("status") or "no completed run",
                "status_class": slug(entry.get("status") or "unknown"),
                "overall": entry.get("overall") or "",
                "path": str(entry.get("path") or ""),
                "met": met,
                "cells": cells,
            }
        )
    return (
        environment()
        .get_template("index.html.j2")
        .render(
            entries=rows,
            columns=[(c, titles[c]) for c in columns],
            legend=[(status, slug(status), meaning) for status, meaning in STATUS_LEGEND.items()],
            version=__version__,
        )
    )
