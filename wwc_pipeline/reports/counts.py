"""One shape for a criterion's `counts` in the exports, whatever kind of criterion made them.

Scoring stores counts in the shape each kind finds natural (per metric; per "portal check";
per key type). Exports carry them as five fixed keys, so a reader never guesses:

- `applicable_datasets`: datasets judged on at least one of the criterion's metrics (or null);
- `metrics`: [{metric, pass, fail, na, share}] (+ `judged_by` when a metric has a fallback);
- `portal_checks`: [{portal, check_id, status, score}];
- `key_types`: [{key_type, found, open, dataset, portal}];
- `totals`: {name: number}, every other count, flat ("dimensions.age" for nested ones).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

COUNT_KEYS = ("applicable_datasets", "metrics", "portal_checks", "key_types", "totals")


def _is_metric(value: Any) -> bool:
    return isinstance(value, Mapping) and {"pass", "fail", "na"} <= set(value)


def _is_portal_check(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) <= {"status", "score"} and "status" in value


def _is_key_type(value: Any) -> bool:
    return isinstance(value, Mapping) and "found" in value and "open" in value


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def normalized_counts(counts: Mapping | None, portals: list[str] | None = None) -> dict[str, Any]:
    """The five-key shape of COUNT_KEYS from a score row's stored counts."""
    result: dict[str, Any] = {key: [] for key in COUNT_KEYS}
    result["applicable_datasets"] = None
    result["totals"] = {}
    known_portals = sorted(portals or [], key=len, reverse=True)
    for name, value in (counts or {}).items():
        if name == "applicable_datasets" and _number(value):
            result["applicable_datasets"] = int(value)
        elif _is_metric(value):
            row = {
                "metric": name,
                **{k: int(value.get(k) or 0) for k in ("pass", "fail", "na")},
                "share": value.get("share"),
            }
            if isinstance(value.get("judged_by"), Mapping):
                row["judged_by"] = dict(value["judged_by"])
            result["metrics"].append(row)
        elif _is_portal_check(value):
            portal, check_id = _split_portal_key(name, known_portals)
            result["portal_checks"].append(
                {
                    "portal": portal,
                    "check_id": check_id,
                    "status": value.get("status"),
                    "score": value.get("score"),
                }
            )
        elif _is_key_type(value):
            result["key_types"].append(
                {
                    "key_type": name,
                    "found": bool(value.get("found")),
                    "open": bool(value.get("open")),
                    "dataset": value.get("dataset"),
                    "portal": value.get("portal"),
                }
            )
        elif _number(value):
            result["totals"][name] = value
        elif isinstance(value, Mapping):
            for inner, number in value.items():
                if _number(number):
                    result["totals"][f"{name}.{inner}"] = number
    return result


def _split_portal_key(name: str, portals: list[str]) -> tuple[str | None, str]:
    """scoring.py keys portal counts as "<portal url> <check id>"; the url has no spaces."""
    for portal in portals:
        if name.startswith(portal + " "):
            return portal, name[len(portal) + 1 :]
    portal, _, check_id = name.rpartition(" ")
    return (portal or None), check_id
