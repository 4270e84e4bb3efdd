"""The overall line and the small helpers every report format shares.

The overall line says where the scan evidence points (CRITERIA.md, "Statuses"): it counts the
met criteria among the assessable ones and names the current criteria they are evidence for.
It never names a certification level: the WWC panel decides that from the city's documents.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from wwc_pipeline.wording import plural

COMPONENTS = ("Commit", "Measure", "Take Stock", "Act")
MET, PARTIAL, NOT_MET = "met", "partially met", "not met"
INSUFFICIENT, NOT_ASSESSABLE = "insufficient evidence", "not assessable by scan"
STATUSES = (MET, PARTIAL, NOT_MET, INSUFFICIENT, NOT_ASSESSABLE)
STATUS_LEGEND = {  # CRITERIA.md "Statuses"
    MET: "the score is at or above the criterion's met threshold",
    PARTIAL: "the score is at or above its partial threshold, below met",
    NOT_MET: "the score is below the partial threshold",
    INSUFFICIENT: "too few applicable datasets (min_datasets), the portal could not be harvested, "
    "or the platform does not expose the needed field",
    NOT_ASSESSABLE: "the criterion needs evidence no portal holds (budgets, evaluations, decisions)",
}


class ReportError(ValueError):
    """Report data or arguments a report cannot be made from; the message is one line."""


def check_report(report: object) -> None:
    """Fail with one clear line when the data is not what `Warehouse.city_report` returns."""
    if not isinstance(report, Mapping):
        raise ReportError(f"report data must be a dict (Warehouse.city_report), not {type(report).__name__}")
    for key in ("city", "run"):
        part = report.get(key)
        if not isinstance(part, Mapping) or part.get("id") in (None, ""):
            raise ReportError(f"report data lacks {key}.id; pass what Warehouse.city_report returns")


def current_ids(criterion: Mapping) -> list[str]:
    """The current criteria (OD3, DM2...) a row is evidence for, as a list."""
    current = criterion.get("current") or []
    return [current] if isinstance(current, str) else [str(item) for item in current]


def status_counts(criteria: list[Mapping]) -> list[tuple[str, int]]:
    """(status, count) for every status in STATUSES order, zero counts included; unknown ones last."""
    counts: dict[str, int] = {status: 0 for status in STATUSES}
    for criterion in criteria:
        status = str(criterion.get("status") or "unknown")
        counts[status] = counts.get(status, 0) + 1
    return list(counts.items())


def overall_line(report: Mapping) -> str:
    """Every status with its count among the assessable criteria (none left unsaid), the current
    criteria the met ones are evidence for, and the criteria no scan can assess."""
    criteria = report.get("criteria") or []
    assessable = [c for c in criteria if c.get("status") != NOT_ASSESSABLE]
    not_assessable = len(criteria) - len(assessable)
    if not assessable:
        return "No criterion could be assessed by scan."
    counts = dict(status_counts(assessable))
    named: list[str] = []
    for criterion in assessable:
        if criterion.get("status") == MET:
            named.extend(item for item in current_ids(criterion) if item not in named)
    line = f"{counts.pop(MET)} of {plural(len(assessable), 'assessable criterion')} met"
    if named:
        line += f" (evidence for {', '.join(named)})"
    counts.pop(NOT_ASSESSABLE, None)
    wording = {INSUFFICIENT: "with insufficient evidence"}
    line += "".join(f", {count} {wording.get(status, status)}" for status, count in counts.items())
    line += f"; {not_assessable} not assessable by scan" if not_assessable else ""
    return line + "."


def format_score(score: Any) -> str:
    """A 0-100 score with one decimal, or a dash when there is none."""
    if score is None:
        return "—"
    try:
        return f"{float(score):.1f}"
    except (TypeError, ValueError):
        return str(score)


def format_time(value: Any) -> str:
    """Times as ISO 8601 to the second; None as a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def to_jsonable(value: Any) -> Any:
    """`json.dumps` default: times as ISO text, enums by value, sets sorted, paths as text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, Path):
        return str(value)
    return str(value)


def format_value(value: Any) -> str:
    """A check's measured value as short text (JSON for anything not already text)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=to_jsonable, ensure_ascii=False, sort_keys=True)


def slug(text: Any) -> str:
    """An HTML id / CSS class from any text."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(text)).strip("-") or "x"


def check_order(report: Mapping) -> list[str]:
    """Check ids in the order criteria name them, then any others the datasets carry, sorted."""
    ordered: list[str] = []
    seen: set[str] = set()
    for criterion in report.get("criteria") or []:
        for check_id in criterion.get("check_ids") or []:
            if check_id not in seen:
                seen.add(check_id)
                ordered.append(check_id)
    dataset_checks: set[str] = set()
    for dataset in report.get("datasets") or []:
        dataset_checks.update(dataset.get("checks") or {})
    known = [c for c in ordered if c in dataset_checks]
    return known + sorted(dataset_checks - seen)


def criteria_by_check(report: Mapping) -> dict[str, list[str]]:
    """check id -> ids of the criteria it feeds."""
    feeds: dict[str, list[str]] = {}
    for criterion in report.get("criteria") or []:
        for check_id in criterion.get("check_ids") or []:
            feeds.setdefault(check_id, []).append(str(criterion.get("criterion_id")))
    return feeds
