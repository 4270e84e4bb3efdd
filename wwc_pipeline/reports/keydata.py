"""The key-datasets table of a city report (HTML block, JSON section, its own CSV file).

Read from the key_datasets portal-check values in `report["portal_checks"]` and summarised
across portals by `keydata.summary`, exactly as the criteria score them. Kept apart from the
main report so a redesign of the reports can move it as a whole.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from wwc_pipeline.keydata.summary import DISAGGREGATED_CHECK, TYPES_CHECK, city_key_datasets, is_open
from wwc_pipeline.reports.summary import check_report

ANSWER_LABELS = {
    "online": "Online",
    "machine_readable": "Machine-readable",
    "bulk": "Bulk or API",
    "open_license": "Open licence",
    "fresh": "Up to date",
}
SYMBOLS = {True: ("✓", "pass"), False: ("✗", "fail"), None: ("–", "na")}
CSV_COLUMNS = (
    "city",
    "run_id",
    "key_type",
    "key_type_name",
    "found",
    "portal",
    "dataset_id",
    "title",
    "link",
    *ANSWER_LABELS,
    "open",
    "rule",
    "dimensions",
    "other_matches",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def web_link(url: Any) -> str | None:
    """The link when it is http(s) with a host; anything else (javascript:, data:) is dropped."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.hostname else None


def rule_text(rule: Mapping | None) -> str:
    """`title ~ /\\bcrimes?\\b/ ("crimes")`, fields joined with " and "."""
    return " and ".join(
        f"{field} ~ /{part.get('pattern')}/ ({part.get('matched')!r})" for field, part in (rule or {}).items()
    )


def _values(report: Mapping, check_id: str) -> list[tuple[str, dict]]:
    return [
        (row.get("portal") or "", row["value"])
        for row in report.get("portal_checks") or []
        if row.get("check_id") == check_id and isinstance(row.get("value"), dict)
    ]


def key_datasets_data(report: Mapping) -> dict[str, Any] | None:
    """Plain rows per key type (best match across portals); None when the check did not run."""
    values = [(portal, value) for portal, value in _values(report, TYPES_CHECK) if value.get("types")]
    if not values:
        return None
    names: dict[str, str] = {}
    for _, value in _values(report, DISAGGREGATED_CHECK):
        names.update(value.get("dimension_names") or {})
    rows = []
    for row in city_key_datasets(values):
        best = row["best"] or {}
        dimensions = best.get("dimensions")
        rows.append(
            {
                "id": row["id"],
                "name": row["name"],
                "definition": row["definition"],
                "sets": row["sets"],
                "found": row["found"],
                "portal": best.get("portal"),
                "dataset_id": best.get("dataset_id"),
                "title": best.get("title"),
                "link": web_link(best.get("link")),
                "answers": {name: (best.get("answers") or {}).get(name) for name in ANSWER_LABELS},
                "open": bool(best) and is_open(best),
                "rule": best.get("rule"),
                "dimensions": None
                if dimensions is None
                else [names.get(d, d) for d in dimensions],  # None: no column names
                "other_matches": max(0, row["count"] - 1),
            }
        )
    return {
        "types": rows,
        "found": [row["id"] for row in rows if row["found"]],
        "missing": [row["name"] for row in rows if not row["found"]],
    }


def key_datasets_view(report: Mapping) -> dict[str, Any] | None:
    """What the HTML block shows: symbols and CSS classes ready, links http(s) only."""
    data = key_datasets_data(report)
    if data is None:
        return None
    rows = []
    for row in data["types"]:
        cells = [
            (*SYMBOLS[row["answers"][name]], f"{label}: {_said(row['answers'][name])}")
            for name, label in ANSWER_LABELS.items()
        ]
        dims = row["dimensions"]
        rows.append(
            {
                **row,
                "cells": cells if row["found"] else [],
                "rule_text": rule_text(row["rule"]),
                "dimensions_text": "no column names" if dims is None else (", ".join(dims) or "none"),
            }
        )
    return {
        "rows": rows,
        "labels": list(ANSWER_LABELS.values()),
        "missing": data["missing"],
        "found_count": len(data["found"]),
    }


def _said(answer: bool | None) -> str:
    return {True: "yes", False: "no", None: "unknown"}[answer]


def _cell(text: Any) -> str:
    text = "" if text is None else str(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def render_key_datasets_csv(report: Mapping) -> str:
    """One row per key type (its best match across portals; missing types with found=no)."""
    check_report(report)
    city, run_id = report["city"]["id"], report["run"]["id"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in (key_datasets_data(report) or {"types": []})["types"]:
        answers = [_said(row["answers"][name]) if row["found"] else "" for name in ANSWER_LABELS]
        dims = row["dimensions"]
        writer.writerow(
            (
                city,
                run_id,
                row["id"],
                _cell(row["name"]),
                "yes" if row["found"] else "no",
                row["portal"] or "",
                _cell(row["dataset_id"]),
                _cell(row["title"]),
                row["link"] or "",
                *answers,
                ("yes" if row["open"] else "no") if row["found"] else "",
                _cell(json.dumps(row["rule"], ensure_ascii=False, sort_keys=True) if row["rule"] else ""),
                "" if dims is None else ";".join(dims),
                row["other_matches"] if row["found"] else "",
            )
        )
    return buffer.getvalue()
