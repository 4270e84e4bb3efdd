"""The history block of a city report: the trend over all runs and the changes since the previous run.

Read from `report["history"]` (warehouse/trend_reads.py): the JSON report carries it as is (the
series a chart draws from); the HTML page shows it as two plain tables. Kept apart from the main
report so a redesign of the reports can move it as a whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wwc_pipeline.reports.summary import format_time

CHANGE_ROWS_SHOWN = 200  # per portal on the page; the JSON report holds them all
TREND_COLUMNS = (  # (header, trend field, kind); whatever comes from the run history says "observed"
    ("As of", "as_of", "date"),
    ("Run", "run_id", "int"),
    ("Kind", "kind", "text"),
    ("Datasets", "datasets", "int"),
    ("With description", "share_with_description", "share"),
    ("Open licence", "share_open_licence", "share"),
    ("Fresh (declared cadence)", "share_fresh_declared", "share"),
    ("Fresh (observed cadence)", "share_fresh_observed", "share"),
    ("Updated in past 365 days", "updated_last_365_days", "int"),
    ("Added in past 365 days (observed)", "observed_added_365_days", "int"),
    ("Data changed in past 365 days (observed)", "observed_data_changed_365_days", "int"),
)
CHANGE_KINDS = ("added", "removed", "renamed", "data_changed", "metadata_changed")


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "date":
        return format_time(value)[:10]
    return str(value)


def history_view(report: Mapping) -> dict[str, Any] | None:
    """What the HTML block shows; None when the report has no history (an older report's data)."""
    history = report.get("history")
    if not isinstance(history, Mapping) or not history.get("trend"):
        return None
    run_id = (report.get("run") or {}).get("id")
    trend = [
        {
            "current": point.get("run_id") == run_id,
            "cells": [_cell(point.get(field), kind) for _, field, kind in TREND_COLUMNS],
        }
        for point in history["trend"]
    ]
    changes = []
    for portal in history.get("changes") or []:
        counts = portal.get("counts")
        rows = list(portal.get("rows") or [])
        changes.append(
            {
                "portal": portal.get("portal"),
                "previous_run_id": portal.get("previous_run_id"),
                "previous_as_of": format_time(portal.get("previous_as_of"))[:10],
                "counts": [(kind.replace("_", " "), counts.get(kind, 0)) for kind in CHANGE_KINDS]
                if counts
                else [],
                "rows": rows[:CHANGE_ROWS_SHOWN],
                "more": max(0, sum(counts.values()) - CHANGE_ROWS_SHOWN) if counts else 0,
            }
        )
    return {
        "headers": [header for header, _, _ in TREND_COLUMNS],
        "trend": trend,
        "changes": changes,
        "multi_portal": len(changes) > 1,
    }
