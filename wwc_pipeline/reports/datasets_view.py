"""The dataset drill-down of the HTML page: every dataset x check, worst first, paged.

The first page is HTML, readable without scripts; the whole table travels as compact JSON that
the page's small inline script sorts, filters and pages (no request). Reasons are stored once
each and only for failing cells, titles and ids are cut, so a 10,000-dataset city stays a few
MB. Each row's anchor is its portal and entry position (`ds-<portal>-<position>`), so repeated
ids get anchors of their own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from wwc_pipeline.reports.keydata import web_link
from wwc_pipeline.reports.portal_evidence import cut
from wwc_pipeline.reports.summary import format_value

PAGE_SIZE = 200  # rows per page of the dataset table
REASON_LIMIT = 240
VALUE_LIMIT = 160
CELL = {"pass": ("✓", "pass"), "fail": ("✗", "fail"), "na": ("–", "na")}
STATUS_LETTER = {"pass": "p", "fail": "f", "na": "n"}


def failures(dataset: Mapping, check_ids: list[str] | None = None) -> int:
    checks = dataset.get("checks") or {}
    ids = checks if check_ids is None else check_ids
    return sum(1 for check_id in ids if checks.get(check_id) == "fail")


def ranked(report: Mapping) -> list[Mapping]:
    """Datasets worst first (most failing checks), then by portal and title."""
    return sorted(
        report.get("datasets") or [],
        key=lambda d: (-failures(d), str(d.get("portal") or ""), str(d.get("title") or "")),
    )


def anchors(report: Mapping) -> dict[int, str]:
    """id(dataset row) -> its anchor, from its portal's index and its entry position."""
    portals = portal_index(report)
    found = {}
    for number, dataset in enumerate(report.get("datasets") or []):
        position = dataset.get("position")
        found[id(dataset)] = (
            f"ds-{portals.get(dataset.get('portal'), 0)}-{number if position is None else position}"
        )
    return found


def portal_index(report: Mapping) -> dict[Any, int]:
    urls = [p.get("url") for p in report.get("portals") or []]
    urls += [d.get("portal") for d in report.get("datasets") or []]
    return {url: number for number, url in enumerate(dict.fromkeys(urls))}


def dataset_link(dataset: Mapping) -> str | None:
    """The dataset's page on its portal: the record's landing page, http(s) only."""
    return web_link(dataset.get("landing_page"))


def _tooltip(dataset: Mapping, check_id: str) -> str:
    status = (dataset.get("checks") or {}).get(check_id)
    if status is None:
        return f"{check_id}: not run for this dataset"
    text = f"{check_id}: {status}"
    reason = (dataset.get("reasons") or {}).get(check_id)
    if reason:
        text += f" — {cut(reason, REASON_LIMIT)}"
    value = (dataset.get("values") or {}).get(check_id)
    if value is not None and status == "fail":
        text += f" (value: {cut(format_value(value), VALUE_LIMIT)})"
    return text


def row_view(dataset: Mapping, anchor: str, check_ids: list[str], tooltips: bool = True) -> dict[str, Any]:
    """One dataset's HTML row: anchor, link, cut title and id, failing count, the check cells."""
    checks = dataset.get("checks") or {}
    cells = []
    for check_id in check_ids:
        status = checks.get(check_id)
        symbol, css = CELL.get(status, ("", "none"))
        cells.append((symbol, css, _tooltip(dataset, check_id) if tooltips or status == "fail" else ""))
    reasons = [
        (check_id, cut((dataset.get("reasons") or {}).get(check_id) or "", REASON_LIMIT))
        for check_id in check_ids
        if checks.get(check_id) == "fail"
    ]
    return {
        "anchor": anchor,
        "portal": dataset.get("portal") or "",
        "dataset_id": cut(dataset.get("dataset_id") or "", 80),
        "title": cut(dataset.get("title") or "(untitled)"),
        "link": dataset_link(dataset),
        "repeat_of": dataset.get("repeat_of"),
        "fails": failures(dataset, check_ids),
        "cells": cells,
        "reasons": reasons,
    }


def table_data(
    datasets: list[Mapping], anchor_of: dict[int, str], check_ids: list[str], portals: dict
) -> str:
    """The whole table as compact JSON for the page script, safe inside <script type=application/json>.

    rows: [anchor, portal index, id, title, link, fails, statuses ("pfn-", one letter per check),
    [check index, reason index, ...] for the failing cells]; reasons: each distinct text once.
    """
    reasons: dict[str, int] = {}
    rows = []
    for dataset in datasets:
        checks = dataset.get("checks") or {}
        statuses = "".join(STATUS_LETTER.get(checks.get(c), "-") for c in check_ids)
        failing: list[int] = []
        for number, check_id in enumerate(check_ids):
            if checks.get(check_id) == "fail":
                text = cut((dataset.get("reasons") or {}).get(check_id) or "", REASON_LIMIT)
                failing += [number, reasons.setdefault(text, len(reasons))]
        rows.append(
            [
                anchor_of[id(dataset)],
                portals.get(dataset.get("portal"), 0),
                cut(dataset.get("dataset_id") or "", 80),
                cut(dataset.get("title") or "(untitled)"),
                dataset_link(dataset) or "",
                failures(dataset, check_ids),
                statuses,
                failing,
            ]
        )
    data = {
        "checks": check_ids,
        "portals": list(portals),
        "reasons": list(reasons),
        "rows": rows,
        "page_size": PAGE_SIZE,
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
