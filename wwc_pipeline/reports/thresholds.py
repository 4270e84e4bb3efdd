"""Why a criterion has its status: its cut-offs, a bar placing the score between them, and what
would change the status.

The thresholds are those stored with the score (criterion_scores.thresholds), so an old run is
explained by the rules of its own day. For metric criteria the sentence is computed from the
counts exactly as scoring.py scores: the fewest datasets that would have to pass (or fail) to
cross the next cut-off.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from wwc_pipeline.reports.summary import INSUFFICIENT, MET, NOT_ASSESSABLE, NOT_MET, PARTIAL
from wwc_pipeline.wording import plural

METRIC_PHRASES = {  # "N more datasets <phrase>"
    "has_description": "with a description",
    "has_keywords": "with keywords",
    "has_category": "with a category",
    "has_publisher": "naming a publisher",
    "has_contact": "with a contact",
    "has_license": "with a licence",
    "open_license": "with an open licence",
    "declares_frequency": "declaring an update frequency",
    "machine_readable": "in a machine-readable format",
    "open_format": "in an open format",
    "columns_documented": "with documented columns",
    "fresh": "kept up to date",
    "observed_fresh": "kept up to date (observed cadence)",
}
PORTAL_SENTENCES = {  # portal check -> what would make it pass
    "portal.policy_document": "Publishing the city's open-data policy on the portal (a page, document or "
    "dataset whose title names it) would make this met.",
    "harvest.catalog": "A catalog that harvests completely, with datasets and a count that matches the "
    "portal's own, would make this met.",
    "links.reachable": "Fixing the probed dataset links that do not answer (listed below) would raise it.",
    "portal.inventory": "An inventory dataset of the city's data, updated within the past 12 months (and "
    "publishers covering the configured departments), would make this met.",
    "portal.catalog_activity": "More datasets updated, or added, in the past 365 days would raise it.",
    "content.quality": "Fixing the row-level defects found in the sampled datasets (listed below) would "
    "raise it.",
    "content.schema_drift": "Keeping datasets' columns stable between runs would raise it.",
}


def rules(criterion: Mapping) -> dict[str, Any] | None:
    """The stored thresholds of a score row, or None when the run predates their storage."""
    stored = criterion.get("thresholds")
    return dict(stored) if isinstance(stored, Mapping) and stored.get("met") is not None else None


def bar_geometry(score: Any, met: float | None, partial: float | None) -> dict[str, Any] | None:
    """Percent positions of the two cut-offs and the score on a 0-100 bar (None: nothing to draw)."""
    if met is None or partial is None:
        return None
    position = None if score is None else max(0.0, min(100.0, float(score)))
    return {"partial": float(partial), "met": float(met), "score": position}


def _metric_score(shares: list[tuple[int, int, float]]) -> float:
    """scoring._metrics_score's formula: (pass, judged, weight) -> rounded weighted mean of shares."""
    total = sum(weight for _, judged, weight in shares if judged)
    mean = sum(weight * round(passed / judged, 4) for passed, judged, weight in shares if judged) / total
    return round(100 * mean, 1)


def _fixes_to_reach(shares: list[dict], target: float, direction: int) -> dict[str, int] | None:
    """Fewest datasets whose outcome must flip (direction +1: fail -> pass; -1: pass -> fail) for
    the score to reach (+1) or fall below (-1) `target`; per metric. Greedy by gain per dataset
    is optimal here: every flip of one metric moves the score by the same amount."""
    order = sorted(shares, key=lambda m: -m["weight"] / m["judged"])
    current = [dict(m) for m in order]
    flips: dict[str, int] = {}

    def score() -> float:
        return _metric_score([(m["pass"], m["judged"], m["weight"]) for m in current])

    def reached() -> bool:
        return score() >= target if direction > 0 else score() < target

    if reached():
        return {}
    for metric in current:
        room = metric["judged"] - metric["pass"] if direction > 0 else metric["pass"]
        low, high = 0, room  # binary search the fewest flips of this metric
        start = metric["pass"]
        metric["pass"] = start + direction * room
        if not reached():
            flips[metric["name"]] = room
            continue
        while low < high:
            middle = (low + high) // 2
            metric["pass"] = start + direction * middle
            if reached():
                high = middle
            else:
                low = middle + 1
        metric["pass"] = start + direction * low
        flips[metric["name"]] = low
        return {name: n for name, n in flips.items() if n}
    return None


def _metric_shares(criterion: Mapping, stored: Mapping) -> list[dict]:
    counts = criterion.get("counts") or {}
    weights = stored.get("weights") or {}
    shares = []
    for name, weight in weights.items():
        c = counts.get(name)
        if isinstance(c, Mapping) and (c.get("pass", 0) + c.get("fail", 0)) > 0:
            shares.append(
                {"name": name, "pass": c["pass"], "judged": c["pass"] + c["fail"], "weight": float(weight)}
            )
    return shares


def _flips_text(flips: dict[str, int], more: bool) -> str:
    parts = []
    for name, n in flips.items():
        phrase = METRIC_PHRASES.get(name, f"passing {name}")
        if more:
            parts.append(f"{n} more {'dataset' if n == 1 else 'datasets'} {phrase}")
        else:
            parts.append(f"{n} fewer {'dataset' if n == 1 else 'datasets'} {phrase}")
    return " and ".join(parts)


def _metrics_sentence(criterion: Mapping, stored: Mapping) -> str:
    status = criterion.get("status")
    counts = criterion.get("counts") or {}
    applicable = int(counts.get("applicable_datasets") or 0)
    minimum = int(stored.get("min_datasets") or 0)
    if status == INSUFFICIENT:
        if applicable < minimum:
            missing = minimum - applicable
            return (
                f"{plural(missing, 'more applicable dataset')} would give enough evidence to judge this "
                f"({minimum} needed, min_datasets)."
            )
        return "No dataset could be judged on these checks; the platform may not expose the needed field."
    shares = _metric_shares(criterion, stored)
    if not shares:
        return ""
    met, partial = float(stored["met"]), float(stored["partial"])
    sentences = []
    if status != MET:
        flips = _fixes_to_reach(shares, met, +1)
        if flips:
            sentences.append(f"{_flips_text(flips, True)} would make this met.")
        if status == NOT_MET:
            flips = _fixes_to_reach(shares, partial, +1)
            if flips:
                sentences.append(f"{_flips_text(flips, True)} would make this partially met.")
    else:
        flips = _fixes_to_reach(shares, met, -1)
        if flips:
            sentences.append(f"Stays met unless {_flips_text(flips, False)} (then partially met).")
        elif flips is None:
            sentences.append("Stays met whatever single metric changes.")
    return " ".join(sentences)


def _key_sentence(criterion: Mapping, stored: Mapping) -> str:
    """Key dataset criteria: types to publish openly (score = mean over types of 100 / credit / 0)."""
    counts = criterion.get("counts") or {}
    if stored.get("key_measure") == "disaggregated":
        return (
            "Publishing key datasets with demographic (race, sex, age, income...) or small-area (tract, "
            "district, ZIP) columns would raise it."
        )
    types = {k: v for k, v in counts.items() if isinstance(v, Mapping) and "found" in v}
    if not types or criterion.get("status") == MET:
        return ""
    credit = float(stored.get("found_credit") or 0)
    gains = sorted(
        ((100.0 - (credit if v.get("found") else 0.0), k) for k, v in types.items() if not v.get("open")),
        reverse=True,
    )
    total = sum(100.0 if v.get("open") else credit if v.get("found") else 0.0 for v in types.values())
    target = float(stored["met"])
    needed: list[str] = []
    for gain, name in gains:
        if round(total / len(types), 1) >= target:
            break
        total += gain
        needed.append(name.replace("_", " "))
    if not needed or round(total / len(types), 1) < target:
        return ""
    types_text = f"{plural(len(needed), 'more key type')} ({', '.join(needed)})"
    return f"Publishing openly {types_text} would make this met."


def what_would_change(criterion: Mapping) -> str:
    """One or two sentences on what would move the status; empty when nothing can be said."""
    status = criterion.get("status")
    stored = rules(criterion)
    if status == NOT_ASSESSABLE:
        return "No scan can change this: the panel reads the city's own documents."
    if stored is None:
        return ""
    kind = stored.get("kind")
    if kind == "metrics":
        return _metrics_sentence(criterion, stored)
    if kind == "key_datasets":
        return _key_sentence(criterion, stored)
    if status == MET:
        return ""
    sentences = [PORTAL_SENTENCES[c] for c in criterion.get("check_ids") or [] if c in PORTAL_SENTENCES]
    if status == INSUFFICIENT:
        return "A portal that harvests, and checks that can run on it, would give evidence to judge this."
    if stored.get("met_requires_pass") and status == PARTIAL:
        sentences.append("It cannot be met while one of its checks fails.")
    return " ".join(dict.fromkeys(sentences))


def thresholds_text(criterion: Mapping) -> str:
    """`met ≥ 90 · partial ≥ 50 · min 5 datasets`, or why none is shown."""
    stored = rules(criterion)
    if criterion.get("status") == NOT_ASSESSABLE:
        return "not scored"
    if stored is None:
        return "not recorded for this run"
    text = f"met ≥ {_number(stored['met'])} · partial ≥ {_number(stored['partial'])}"
    if stored.get("kind") == "metrics":
        text += f" · min {plural(int(stored.get('min_datasets') or 0), 'dataset')}"
    if stored.get("met_requires_pass"):
        text += " · never met while a check fails"
    return text


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if math.isclose(number, round(number)) else f"{number:g}"
