"""The row-level quality drill-down: per sampled dataset, which expectations failed and on what.

Rendered by templates/quality_samples.html.j2 under any criterion whose checks store expectation
outcomes in their per-dataset values (`content.quality`: {"outcomes": [...], ...}).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SAMPLE_LIMIT = 100  # sampled datasets listed under one criterion


def _percent(share: Any) -> str:
    try:
        return f"{100 * float(share):.1f}%"
    except (TypeError, ValueError):
        return "—"


def _failure(outcome: Mapping) -> dict:
    return {
        "kind": str(outcome.get("kind") or ""),
        "column": str(outcome.get("column") or "(rows)"),
        "observed": _percent(outcome.get("observed")) if outcome.get("kind") != "no_rows" else "no rows",
        "allowed": _percent(outcome.get("allowed")),
        "examples": [str(example) for example in outcome.get("examples") or []],
    }


def quality_samples(report: Mapping, check_ids: list[str], anchors: Mapping[tuple, str]) -> list[dict]:
    """One entry per sampled dataset of these checks: rows, pass count, the failed expectations."""
    samples = []
    for dataset in report.get("datasets") or []:
        values = dataset.get("values") or {}
        for check_id in check_ids:
            value = values.get(check_id)
            if not isinstance(value, Mapping) or not isinstance(value.get("outcomes"), list):
                continue
            outcomes = [o for o in value["outcomes"] if isinstance(o, Mapping)]
            samples.append(
                {
                    "check_id": check_id,
                    "anchor": anchors.get((dataset.get("portal"), dataset.get("dataset_id")), ""),
                    "dataset_id": dataset.get("dataset_id") or "",
                    "title": dataset.get("title") or "(untitled)",
                    "rows": value.get("rows"),
                    "passed": value.get("passed"),
                    "expectations": value.get("expectations"),
                    "defects": ", ".join(str(kind) for kind in value.get("defects") or []) or "none",
                    "failures": [_failure(o) for o in outcomes if o.get("success") is False],
                }
            )
    samples.sort(key=lambda s: (-len(s["failures"]), str(s["title"])))
    return samples[:SAMPLE_LIMIT]
