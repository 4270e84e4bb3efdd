"""The HTML evidence page of one city's run, from plain report data.

One self-contained file: inline CSS (with a print stylesheet), inline SVG charts, and one small
inline script that sorts, filters and pages the dataset table; no request leaves the page, and
everything but the later table pages reads without scripts. The view data is prepared here, in
plain Python, so that the templates only loop. Autoescape is on: catalog text comes from
public portals.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from wwc_pipeline import __version__
from wwc_pipeline.reports.criteria_view import DETAIL_LIMIT, criterion_view
from wwc_pipeline.reports.datasets_view import PAGE_SIZE, anchors, portal_index, ranked, row_view, table_data
from wwc_pipeline.reports.history import history_view
from wwc_pipeline.reports.keydata import key_datasets_view
from wwc_pipeline.reports.portal_evidence import portal_evidence
from wwc_pipeline.reports.summary import (
    COMPONENTS,
    STATUS_LEGEND,
    check_order,
    check_report,
    criteria_by_check,
    format_time,
    overall_line,
    slug,
    status_counts,
)
from wwc_pipeline.reports.trends import changes_view, trend_view

_RUN_FIELDS = ("id", "kind", "trigger", "status", "started_at", "finished_at", "as_of", "error")
COLUMN_HELP = {  # the criteria table's headers, explained above it
    "Criterion": "Our stable id and wording of the criterion (config/criteria.yaml).",
    "Current": "The What Works Cities criteria of the current (2022) standard this is evidence for: "
    "OD = Open Data, DM = Data Management, PA = Performance & Analytics, RDC = Results-Driven "
    "Contracting, BF = Budget & Finance, EVAL = Evaluations, CI = Community Impact.",
    "Score": "0-100, computed from the checks named under the criterion; the bar places it between "
    "the partial (amber) and met (green) cut-offs.",
    "Thresholds": "The cut-offs this run was judged by, stored with its scores: met at or above met, "
    "partially met at or above partial; metric criteria need at least min applicable datasets.",
    "Status": "See the legend.",
    "Evidence": "What the scan found, in one line.",
    "What would change it": "Computed from the counts: the fewest datasets that would have to change "
    "for the status to move.",
}


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("wwc_pipeline", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )


def _blank(value: Any) -> Any:
    return "" if value is None else value


def _groups(criteria: list[dict]) -> list[dict]:
    """Criteria grouped by 2017 component, in the standard's order; unknown components last."""
    names = list(COMPONENTS) + sorted({c["component"] for c in criteria} - set(COMPONENTS))
    groups = [
        {"component": name, "criteria": [c for c in criteria if c["component"] == name]} for name in names
    ]
    return [group for group in groups if group["criteria"]]


def _portals(report: Mapping) -> list[dict]:
    return [
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


def html_context(report: Mapping) -> dict:
    """Everything the page templates show, as plain values."""
    check_report(report)
    order = check_order(report)
    datasets = ranked(report)
    anchor_of = anchors(report)
    anchor_by_key: dict[tuple, str] = {}
    for dataset in report.get("datasets") or []:
        anchor_by_key.setdefault((dataset.get("portal"), dataset.get("dataset_id")), anchor_of[id(dataset)])
    criteria_rows = report.get("criteria") or []
    evidence = portal_evidence(report)
    trend = trend_view(report, criteria_rows)
    context = {
        "order": order,
        "anchors": anchor_of,
        "anchor_by_key": anchor_by_key,
        "portal_evidence": evidence,
        "trend": trend,
    }
    criteria = [criterion_view(report, c, context) for c in criteria_rows]
    feeds = criteria_by_check(report)
    run = dict(report["run"])
    for key in ("started_at", "finished_at", "as_of"):
        run[key] = format_time(run.get(key))
    portals = _portals(report)
    portal_numbers = portal_index(report)
    return {
        "city": {"id": report["city"]["id"], "name": report["city"].get("name") or report["city"]["id"]},
        "run": {key: _blank(run.get(key)) for key in _RUN_FIELDS},
        "run_status_class": slug(run.get("status") or "unknown"),
        "portals": portals,
        "multi_portal": len(portal_numbers) > 1,
        "overall": overall_line(report),
        "status_counts": [(s, n, slug(s)) for s, n in status_counts(criteria_rows)],
        "legend": [(status, slug(status), meaning) for status, meaning in STATUS_LEGEND.items()],
        "column_help": COLUMN_HELP,
        "groups": _groups(criteria),
        "criteria": criteria,
        "check_ids": order,
        "check_feeds": {check_id: ", ".join(feeds.get(check_id, [])) for check_id in order},
        "datasets_total": len(datasets),
        "first_page": [row_view(d, anchor_of[id(d)], order) for d in datasets[:PAGE_SIZE]],
        "page_size": PAGE_SIZE,
        "table_data": table_data(datasets, anchor_of, order, portal_numbers) if datasets else "",
        "portal_evidence": evidence,
        "detail_limit": DETAIL_LIMIT,
        "version": __version__,
        "key_datasets": key_datasets_view(report),
        "trend": trend,
        "changes": changes_view(report),
        "history": history_view(report),
    }


def render_html(report: Mapping) -> str:
    """One self-contained evidence page for one city and run."""
    return environment().get_template("report.html.j2").render(html_context(report))
