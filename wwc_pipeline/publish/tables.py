"""The rows of every published table, from the latest completed report of each city.

Plain dicts per row, keyed by the columns of dictionary.TABLES; values typed (numbers stay numbers,
no spreadsheet quoting: the CSV here is data, read by programs).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from wwc_pipeline.reports.exports import typed_value
from wwc_pipeline.reports.keydata import ANSWER_LABELS, key_datasets_data, web_link
from wwc_pipeline.reports.summary import check_order, criteria_by_check, current_ids, to_jsonable
from wwc_pipeline.reports.thresholds import rules, what_would_change


def _number(text: str) -> float | None:
    return float(text) if text else None


def criteria_rows(report: Mapping) -> Iterable[dict[str, Any]]:
    city, run = report["city"]["id"], report["run"]
    for c in report.get("criteria") or []:
        stored = rules(c) or {}
        yield {
            "city": city,
            "run_id": run["id"],
            "as_of": run.get("as_of"),
            "criterion_id": c["criterion_id"],
            "component": c.get("component"),
            "current": ";".join(current_ids(c)),
            "title": c.get("title"),
            "kind": stored.get("kind"),
            "score": c.get("score"),
            "status": c.get("status"),
            "met_threshold": stored.get("met"),
            "partial_threshold": stored.get("partial"),
            "min_datasets": stored.get("min_datasets") if stored.get("kind") == "metrics" else None,
            "applicable_datasets": (c.get("counts") or {}).get("applicable_datasets"),
            "evidence": c.get("evidence"),
            "what_would_change": what_would_change(c) or None,
            "check_ids": ";".join(c.get("check_ids") or []),
        }


def _entry_keys(city: str, run_id: int, dataset: Mapping) -> dict[str, Any]:
    """What names one catalog entry of one scan (the first columns of both dataset tables)."""
    return {
        "city": city,
        "run_id": run_id,
        "portal": dataset.get("portal"),
        "position": dataset.get("position"),
        "dataset_id": dataset.get("dataset_id"),
    }


def dataset_rows(report: Mapping) -> Iterable[dict[str, Any]]:
    city, run_id = report["city"]["id"], report["run"]["id"]
    for d in report.get("datasets") or []:
        checks = d.get("checks") or {}
        yield {
            **_entry_keys(city, run_id, d),
            "occurrence": d.get("occurrence"),
            "title": d.get("title"),
            "landing_page": web_link(d.get("landing_page")),
            "checks_run": len(checks),
            "checks_failed": sum(1 for status in checks.values() if status == "fail"),
        }


def dataset_check_rows(report: Mapping) -> Iterable[dict[str, Any]]:
    city, run_id = report["city"]["id"], report["run"]["id"]
    order, feeds = check_order(report), criteria_by_check(report)
    for d in report.get("datasets") or []:
        checks = d.get("checks") or {}
        for check_id in (c for c in order if c in checks):
            number, text, as_json = typed_value((d.get("values") or {}).get(check_id))
            yield {
                **_entry_keys(city, run_id, d),
                "check_id": check_id,
                "status": checks[check_id],
                "reason": (d.get("reasons") or {}).get(check_id),
                "value_number": _number(number),
                "value_text": text.removeprefix("'") if text else None,  # data, not a spreadsheet cell
                "value_json": as_json or None,
                "criteria": ";".join(feeds.get(check_id, [])),
            }


def portal_check_rows(report: Mapping) -> Iterable[dict[str, Any]]:
    city, run_id = report["city"]["id"], report["run"]["id"]
    feeds = criteria_by_check(report)
    for row in report.get("portal_checks") or []:
        value = row.get("value")
        score = value.get("score") if isinstance(value, Mapping) else None
        yield {
            "city": city,
            "run_id": run_id,
            "portal": row.get("portal"),
            "check_id": row.get("check_id"),
            "status": row.get("status"),
            "reason": row.get("reason"),
            "score": score if isinstance(score, int | float) else None,
            "value_json": json.dumps(value, default=to_jsonable, ensure_ascii=False, sort_keys=True),
            "criteria": ";".join(feeds.get(row.get("check_id"), [])),
        }


def portal_rows(report: Mapping) -> Iterable[dict[str, Any]]:
    city, run_id = report["city"]["id"], report["run"]["id"]
    for p in report.get("portals") or []:
        yield {
            "city": city,
            "run_id": run_id,
            "platform": p.get("platform"),
            "portal": p.get("url"),
            "status": p.get("status"),
            "assets": p.get("assets"),
            "datasets": p.get("datasets"),
            "pages": p.get("pages"),
            "warnings": ";".join(str(w) for w in p.get("warnings") or []) or None,
            "error": p.get("error"),
        }


def key_dataset_rows(report: Mapping) -> Iterable[dict[str, Any]]:
    city, run_id = report["city"]["id"], report["run"]["id"]
    for row in (key_datasets_data(report) or {"types": []})["types"]:
        answers = row["answers"] if row["found"] else {}
        yield {
            "city": city,
            "run_id": run_id,
            "key_type": row["id"],
            "key_type_name": row["name"],
            "found": row["found"],
            "portal": row["portal"],
            "dataset_id": row["dataset_id"],
            "title": row["title"],
            "link": row["link"],
            **{name: answers.get(name) for name in ANSWER_LABELS},
            "open": row["open"] if row["found"] else None,
        }


def score_history_rows(report: Mapping) -> Iterable[dict[str, Any]]:
    city = report["city"]["id"]
    for point in report.get("score_trend") or []:
        for criterion_id, cell in (point.get("criteria") or {}).items():
            yield {
                "city": city,
                "run_id": point.get("run_id"),
                "as_of": point.get("as_of"),
                "kind": point.get("kind"),
                "datasets": point.get("datasets"),
                "criterion_id": criterion_id,
                "score": cell.get("score"),
                "status": cell.get("status"),
            }


ROWS = {
    "criteria": criteria_rows,
    "datasets": dataset_rows,
    "dataset_checks": dataset_check_rows,
    "portal_checks": portal_check_rows,
    "portals": portal_rows,
    "key_datasets": key_dataset_rows,
    "score_history": score_history_rows,
}
