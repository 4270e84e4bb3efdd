"""Scores of the `key_datasets` criterion kind (criteria.yaml), from the key_datasets portal checks.

`open`: each key type of the criterion's set scores 100 when a match meets every answer in
`open_answers`, `found_credit` when it is only found, 0 when missing; the score is the mean.
`disaggregated` (DM8): the mean of two shares, of the set's key datasets and of all tabular
datasets, that have demographic or small-area columns; no column names anywhere is
"insufficient evidence", never "not met".
"""

from __future__ import annotations

from typing import Any

from wwc_pipeline.keydata.summary import (
    DISAGGREGATED_CHECK,
    TYPES_CHECK,
    city_key_datasets,
    in_set,
    is_open,
)
from wwc_pipeline.results import Status

MISSING_ANSWER = {
    "online": "not online",
    "machine_readable": "not machine-readable",
    "bulk": "no bulk download or API",
    "open_license": "no open licence",
    "fresh": "not up to date",
}


def _values(portals: list[Any], check_id: str) -> list[tuple[str, dict]]:
    """(portal, result value) of a check on each portal where it ran."""
    found = []
    for portal in portals:
        result = portal.portal_results.get(check_id)
        if result is not None and result.status is not Status.NA and isinstance(result.value, dict):
            found.append((portal.portal, result.value))
    return found


def _dimension_order() -> dict[str, int]:
    """dimension id -> its place in config/key_datasets.yaml (empty when the file cannot be read)."""
    from wwc_pipeline.keydata.rules import cached_key_datasets

    try:
        dimensions = cached_key_datasets().disaggregation.dimensions
    except Exception:  # noqa: BLE001 - a broken file: ties fall back to the dimension id
        return {}
    return {dimension.id: place for place, dimension in enumerate(dimensions)}


def _not_run(portals: list[Any], check_id: str) -> str:
    """Why a check gave no result (e.g. a bad config/key_datasets.yaml), for the evidence line."""
    reasons = sorted({r.reason for p in portals if (r := p.portal_results.get(check_id)) and r.reason})
    return f"The {check_id} check gave no result" + (f": {' '.join(reasons)}" if reasons else ".")


def _names(rows: list[dict]) -> str:
    return ", ".join(row["name"] for row in rows)


def open_score(criterion: Any, portals: list[Any]) -> tuple[float | None, dict, str]:
    values = _values(portals, TYPES_CHECK)
    if not values:
        return None, {}, _not_run(portals, TYPES_CHECK)
    rows = in_set(city_key_datasets(values), criterion.key_set)
    if not rows:
        return (
            None,
            {},
            f"No key type belongs to set {criterion.key_set!r} (config/key_datasets.yaml `sets`).",
        )
    required = list(criterion.open_answers)
    counts: dict[str, Any] = {}
    credits, opened, closed, missing = [], [], [], []
    for row in rows:
        chosen = next((m for m in row["matches"] if is_open(m, required)), None)
        if chosen is not None:
            credits.append(100.0)
            opened.append(row)
        elif row["found"]:
            credits.append(criterion.found_credit)
            closed.append(row)
            chosen = row["best"]
        else:
            credits.append(0.0)
            missing.append(row)
        counts[row["id"]] = {
            "found": row["found"],
            "open": chosen is not None and is_open(chosen, required),
            "dataset": chosen["title"] if chosen else None,
            "portal": chosen["portal"] if chosen else None,
        }
    counts["types"], counts["published_open"] = len(rows), len(opened)
    counts["published_not_open"], counts["missing"] = len(closed), len(missing)
    kinds = "key dataset type" if len(rows) == 1 else "key dataset types"
    parts = [f"Of {len(rows)} {kinds}, {len(opened)} published and open"]
    if opened:
        parts[0] += f" ({_names(opened)})"
    if closed:
        why = []
        for row in closed:
            lacking = [
                MISSING_ANSWER[a] for a in required if (row["best"]["answers"] or {}).get(a) is not True
            ]
            why.append(f"{row['name']}: {', '.join(lacking)}")
        parts.append(f"{len(closed)} published but not open ({'; '.join(why)})")
    if missing:
        parts.append(f"{len(missing)} missing ({_names(missing)})")
    score = round(sum(credits) / len(credits), 1)
    return score, counts, "; ".join(parts) + "."


def disaggregated_score(criterion: Any, portals: list[Any]) -> tuple[float | None, dict, str]:
    tabular = split = 0
    dimensions: dict[str, int] = {}
    names: dict[str, str] = {}
    for _, value in _values(portals, DISAGGREGATED_CHECK):
        tabular += int(value.get("tabular") or 0)
        split += int(value.get("disaggregated") or 0)
        names.update(value.get("dimension_names") or {})
        for dimension_id, n in (value.get("dimensions") or {}).items():
            dimensions[dimension_id] = dimensions.get(dimension_id, 0) + int(n)
    rows = in_set(city_key_datasets(_values(portals, TYPES_CHECK)), criterion.key_set)
    key_known = key_split = 0
    for row in rows:
        judged = next((m for m in row["matches"] if m.get("dimensions") is not None), None)
        if judged is not None:
            key_known += 1
            key_split += 1 if judged["dimensions"] else 0
    shares = [share for share in (_share(key_split, key_known), _share(split, tabular)) if share is not None]
    counts = {
        "key_datasets_with_columns": key_known,
        "key_datasets_disaggregated": key_split,
        "tabular_datasets": tabular,
        "tabular_disaggregated": split,
        "dimensions": dimensions,
    }
    if not shares:
        evidence = (
            "No dataset lists its column names (DCAT and CKAN without DataStore do not): "
            "disaggregation cannot be judged."
        )
        return None, counts, evidence
    parts = []
    if key_known:
        parts.append(
            f"{key_split} of {key_known} key datasets with column names ({100 * key_split / key_known:.0f}%)"
        )
    if tabular:
        parts.append(f"{split} of {tabular} tabular datasets ({100 * split / tabular:.0f}%)")
    order = _dimension_order()  # ties: configured order, not the stored value's (JSONB reorders keys)
    ranked = sorted(dimensions.items(), key=lambda i: (-i[1], order.get(i[0], len(order)), i[0]))
    shown = ", ".join(f"{names.get(d, d)} ({n})" for d, n in ranked)
    evidence = " and ".join(parts) + f" are disaggregated; dimensions found: {shown or 'none'}."
    return round(100 * sum(shares) / len(shares), 1), counts, evidence


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def key_datasets_score(criterion: Any, portals: list[Any]) -> tuple[float | None, dict, str]:
    """(score, counts, evidence) of a `key_datasets` criterion over a city's harvested portals."""
    if criterion.key_measure == "disaggregated":
        return disaggregated_score(criterion, portals)
    return open_score(criterion, portals)
