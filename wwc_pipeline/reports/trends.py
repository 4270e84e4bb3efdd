"""Trends across a city's runs (charts and their tables) and what changed since the previous run.

Read from `report["score_trend"]` (warehouse/score_trend_reads.py: every criterion's score, the
dataset and asset counts, the metric shares, each portal's harvest) and, when the history work
supplies it, `report["history"]["trend"]` (observed cadence series). One point per completed
run, in as-of order; the run of the report is the last point.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wwc_pipeline.reports.charts import line_chart
from wwc_pipeline.reports.summary import COMPONENTS, MET, NOT_MET, PARTIAL, format_score, slug
from wwc_pipeline.wording import plural

SHARE_SERIES = (  # metric -> label, drawn when some run has it
    ("fresh", "Fresh (declared cadence)"),
    ("has_description", "With a description"),
    ("open_license", "Open licence"),
    ("declares_frequency", "Declares a frequency"),
    ("machine_readable", "Machine-readable"),
)
CHANGE_ROWS_SHOWN = 100
HISTORY_SHARES = (  # the history work's trend fields (warehouse/trend_reads.py) -> label
    ("share_with_description", "With a description"),
    ("share_open_licence", "Open licence"),
    ("share_fresh_declared", "Fresh (declared cadence)"),
    ("share_fresh_observed", "Fresh (observed cadence)"),
)
HISTORY_COUNTS = (
    ("updated_last_365_days", "Updated in the past 365 days"),
    ("observed_added_365_days", "Added in the past 365 days (observed)"),
    ("observed_data_changed_365_days", "Data changed in the past 365 days (observed)"),
)


def _labels(points: list[Mapping]) -> list[str]:
    """As-of dates; a date two runs share gets the run id too."""
    dates = [str(p.get("as_of") or "")[:10] for p in points]
    return [f"{d} #{p['run_id']}" if dates.count(d) > 1 else d for d, p in zip(dates, points, strict=True)]


def _pct(value: Any) -> str:
    return "—" if value is None else f"{100 * float(value):.1f}%"


def trend_view(report: Mapping, criteria: list[Mapping]) -> dict[str, Any] | None:
    """Charts and value tables of the city's runs; None when the report carries no trend."""
    points = [p for p in report.get("score_trend") or [] if isinstance(p, Mapping)]
    if not points:
        return None
    labels = _labels(points)
    multi_portal = any(len(p.get("portals") or []) > 1 for p in points)
    count_series = [
        ("Datasets", [p.get("datasets") for p in points]),
        ("Assets", [p.get("assets") for p in points]),
    ]
    if multi_portal:
        urls = list(dict.fromkeys(q["portal"] for p in points for q in p.get("portals") or []))
        for url in urls:
            per_run = [
                next((q.get("datasets") for q in p.get("portals") or [] if q["portal"] == url), None)
                for p in points
            ]
            count_series.append((f"Datasets on {url}", per_run))
    shares = [
        (label, [(p.get("shares") or {}).get(metric) for p in points])
        for metric, label in SHARE_SERIES
        if any((p.get("shares") or {}).get(metric) is not None for p in points)
    ]
    charts = [
        {
            "id": "datasets",
            "title": "Datasets and assets per run",
            "points": len(points),
            "svg": line_chart("datasets", labels, count_series),
        },
    ]
    if shares:
        charts.append(
            {
                "id": "shares",
                "title": "Shares of datasets per run",
                "points": len(points),
                "svg": line_chart("shares", labels, shares, percent=True),
            }
        )
    for component in COMPONENTS:
        ids = [
            c["criterion_id"]
            for c in criteria
            if c.get("component") == component and c.get("score") is not None
        ]
        series = [
            (cid, [((p.get("criteria") or {}).get(cid) or {}).get("score") for p in points]) for cid in ids
        ]
        if series:
            charts.append(
                {
                    "id": "scores-" + slug(component),
                    "title": f"{component}: criterion scores",
                    "points": len(points),
                    "svg": line_chart("scores-" + slug(component), labels, series, score_range=True),
                }
            )
    charts += history_charts(report)
    rows = []
    for label, point in zip(labels, points, strict=True):
        statuses = [c.get("status") for c in (point.get("criteria") or {}).values()]
        rows.append(
            {
                "label": label,
                "run_id": point.get("run_id"),
                "kind": point.get("kind") or "",
                "current": point.get("run_id") == (report.get("run") or {}).get("id"),
                "datasets": point.get("datasets"),
                "assets": point.get("assets"),
                "shares": [_pct((point.get("shares") or {}).get(m)) for m, _ in SHARE_SERIES],
                "met": statuses.count(MET),
                "partial": statuses.count(PARTIAL),
                "not_met": statuses.count(NOT_MET),
                "warnings": sum(q.get("warnings") or 0 for q in point.get("portals") or []),
            }
        )
    return {
        "charts": charts,
        "rows": rows,
        "share_labels": [label for _, label in SHARE_SERIES],
        "runs": len(points),
        "labels": labels,
        "points": points,
    }


def criterion_chart(trend: Mapping | None, criterion: Mapping, stored: Mapping | None) -> str | None:
    """The criterion's own score over the runs, with its current thresholds as dashed lines."""
    if not trend or criterion.get("score") is None:
        return None
    cid = criterion["criterion_id"]
    values = [((p.get("criteria") or {}).get(cid) or {}).get("score") for p in trend["points"]]
    limits = {"met": float(stored["met"]), "partial": float(stored["partial"])} if stored else None
    return line_chart(
        "crit-" + slug(cid), trend["labels"], [(cid, values)], score_range=True, thresholds=limits, height=190
    )


def changes_view(report: Mapping) -> dict[str, Any] | None:
    """What changed since the previous run, ready to show; None without a comparison."""
    since = report.get("since_previous")
    if not isinstance(since, Mapping):
        return None
    previous = since.get("previous_run")
    if not previous:
        return {"previous": None}
    counts = since.get("counts") or {}
    moved = [
        {
            **row,
            "before": f"{format_score(row.get('score_before'))} ({row.get('status_before') or 'not scored'})",
            "after": f"{format_score(row.get('score'))} ({row.get('status')})",
            "status_changed": row.get("status_before") != row.get("status"),
        }
        for row in since.get("criteria_moved") or []
    ]
    lists = []
    for key, title in (
        ("checks_newly_failing", "Checks newly failing"),
        ("checks_recovered", "Checks recovered"),
        ("datasets_added", "Datasets added"),
        ("datasets_removed", "Datasets removed"),
    ):
        rows = list(since.get(key) or [])
        lists.append(
            {
                "key": key,
                "title": title,
                "count": counts.get(key, len(rows)),
                "rows": rows[:CHANGE_ROWS_SHOWN],
                "more": max(0, counts.get(key, len(rows)) - CHANGE_ROWS_SHOWN),
            }
        )
    summary = ", ".join(
        plural(counts.get(key, 0), one, many)
        for key, one, many in (
            ("criteria_moved", "criterion moved", "criteria moved"),
            ("datasets_added", "dataset added", "datasets added"),
            ("datasets_removed", "dataset removed", "datasets removed"),
            ("checks_newly_failing", "check newly failing", "checks newly failing"),
            ("checks_recovered", "check recovered", "checks recovered"),
        )
    )
    return {"previous": previous, "summary": summary, "moved": moved, "lists": lists}


def history_charts(report: Mapping) -> list[dict[str, Any]]:
    """Charts of the history series (report["history"]["trend"]): freshness declared and observed,
    and the past year's activity; none when the report has no history."""
    history = report.get("history")
    points = [p for p in (history or {}).get("trend") or [] if isinstance(p, Mapping)]
    if not points:
        return []
    labels = _labels(points)
    charts = []
    for name, title, fields, percent in (
        (
            "history-shares",
            "Description, licence and freshness (declared and observed) per run",
            HISTORY_SHARES,
            True,
        ),
        ("history-activity", "Activity in the past 365 days per run", HISTORY_COUNTS, False),
    ):
        series = [
            (label, [p.get(field) for p in points])
            for field, label in fields
            if any(p.get(field) is not None for p in points)
        ]
        if series:
            svg = line_chart(name, labels, series, percent=percent)
            charts.append({"id": name, "title": title, "points": len(points), "svg": svg})
    return charts
