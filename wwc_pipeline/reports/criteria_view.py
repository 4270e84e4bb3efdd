"""One criterion as the HTML page shows it: score, status, thresholds and bar, what would change
it, its checks' counts, its portal evidence, and its worst datasets (the drill-down)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from wwc_pipeline.reports.datasets_view import CELL, failures, row_view
from wwc_pipeline.reports.quality import quality_samples
from wwc_pipeline.reports.summary import NOT_ASSESSABLE, current_ids, format_score, slug
from wwc_pipeline.reports.thresholds import bar_geometry, rules, thresholds_text, what_would_change
from wwc_pipeline.reports.trends import criterion_chart

DETAIL_LIMIT = 50  # datasets listed under one criterion; all of them are in the dataset table


def check_counts(report: Mapping, check_ids: list[str]) -> list[dict]:
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
            {"check_id": check_id, "level": level if counts else "no results", **{s: counts[s] for s in CELL}}
        )
    return rows


def harvest_warnings(report: Mapping) -> list[dict]:
    """Every portal's harvest warnings, as (portal, warning) rows."""
    return [
        {"portal": portal.get("url") or "", "warning": str(warning)}
        for portal in report.get("portals") or []
        for warning in portal.get("warnings") or []
    ]


def _worst(criterion: Mapping, anchor_by_key: Mapping[tuple, str]) -> list[dict]:
    return [
        {
            "dataset_id": item.get("dataset_id") or "",
            "title": item.get("title") or "(untitled)",
            "failed": ", ".join(str(check) for check in item.get("failed") or []),
            "anchor": anchor_by_key.get((item.get("portal"), item.get("dataset_id")), ""),
        }
        for item in criterion.get("worst_datasets") or []
    ]


def criterion_view(
    report: Mapping,
    criterion: Mapping,
    context: Mapping[str, Any],
) -> dict:
    """`context`: order (dataset check ids), anchors (id(row) -> anchor), anchor_by_key,
    portal_evidence (rows of portal_evidence.portal_evidence), trend (trends.trend_view)."""
    check_ids = [str(c) for c in criterion.get("check_ids") or []]
    dataset_checks = [c for c in check_ids if c in context["order"]]
    relevant = []
    if dataset_checks:
        relevant = [
            d
            for d in report.get("datasets") or []
            if any(c in (d.get("checks") or {}) for c in dataset_checks)
        ]
    relevant.sort(key=lambda d: (-failures(d, dataset_checks), str(d.get("title") or "")))
    stored = rules(criterion)
    status = criterion.get("status") or "unknown"
    return {
        "id": str(criterion.get("criterion_id")),
        "anchor": "crit-" + slug(criterion.get("criterion_id")),
        "component": criterion.get("component") or "",
        "current": ", ".join(current_ids(criterion)),
        "title": criterion.get("title") or "",
        "score": format_score(criterion.get("score")),
        "status": status,
        "status_class": slug(status),
        "thresholds": thresholds_text(criterion),
        "bar": bar_geometry(criterion.get("score"), (stored or {}).get("met"), (stored or {}).get("partial")),
        "change": what_would_change(criterion),
        "chart": criterion_chart(context.get("trend"), criterion, stored),
        "evidence": criterion.get("evidence") or "",
        "check_ids": check_ids,
        "check_counts": check_counts(report, check_ids),
        "breakdown": [
            {
                "portal": portal,
                "score": format_score((part or {}).get("score")),
                "status": (part or {}).get("status") or "unknown",
                "status_class": slug((part or {}).get("status") or "unknown"),
            }
            for portal, part in (criterion.get("portal_breakdown") or {}).items()
        ],
        "portal_evidence": [r for r in context["portal_evidence"] if r["check_id"] in check_ids],
        "worst": _worst(criterion, context["anchor_by_key"]),
        "dataset_checks": dataset_checks,
        "rows": [
            row_view(d, context["anchors"][id(d)], dataset_checks, tooltips=False)
            for d in relevant[:DETAIL_LIMIT]
        ],
        "relevant": len(relevant),
        "failing": sum(1 for d in relevant if failures(d, dataset_checks)),
        "samples": quality_samples(report, check_ids, context["anchor_by_key"]),
        # every assessable criterion rests on every harvested portal of the city
        "warnings": harvest_warnings(report) if status != NOT_ASSESSABLE else [],
    }
