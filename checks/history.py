"""History checks: what the portal's own run history shows (history/observe.py did the matching).

- `observed_fresh` (one result per dataset): freshness against the *observed* update cadence,
  the median gap between the distinct last-update times the runs have seen. It stands in for
  the declared cadence where a dataset declares none (config/criteria.yaml, TAKESTOCK-FRESH).
- `history.catalog_activity` (the portal): datasets added, and datasets whose data changed, in
  the past 365 days, as the runs saw them (TAKESTOCK-ACTIVITY's evidence; no score of its own).

Both need the warehouse's history (`context.history`); `wwc evaluate` has none and gets no result.
Values name times, never ages, so an unchanged dataset's result is stored once across runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from wwc_pipeline.frequency import aware
from wwc_pipeline.history.cadence import MIN_UPDATES, ObservedFreshness
from wwc_pipeline.history.observe import Observation
from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.registry import portal_check
from wwc_pipeline.results import CheckResult, PortalContext, Status

OBSERVED_CHECK = "observed_fresh"
ACTIVITY_CHECK = "history.catalog_activity"
LOWER_BOUND = "observed cadence: a lower bound, set by how often the runs looked"


def _utc_text(moment: datetime) -> str:
    return aware(moment).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def observed_status(record: DatasetRecord, judged: ObservedFreshness) -> Status:
    """Pass (fresh), fail (stale) or n/a (no last update, or too few seen for a cadence)."""
    if record.data_modified_at is None or judged.interval_days is None:
        return Status.NA
    return Status.FAIL if judged.status == "stale" else Status.PASS


def observed_result(record: DatasetRecord, judged: ObservedFreshness, position: int) -> CheckResult:
    last = record.data_modified_at
    turns_stale = (
        aware(last) + timedelta(days=1.5 * judged.interval_days + 1)
        if last is not None and judged.interval_days is not None
        else None
    )
    value = {
        "status": judged.status,
        "observed_interval_days": judged.interval_days,
        "updates_seen": judged.updates_seen,
        "last_update": aware(last).astimezone(UTC).isoformat() if last else None,
        "stale_after": turns_stale.astimezone(UTC).isoformat() if turns_stale else None,
    }
    status = observed_status(record, judged)
    if last is None:
        reason = "Observed freshness unknown: no last update."
    elif judged.interval_days is None:
        reason = (
            f"Observed freshness unknown: {judged.updates_seen} distinct last update(s) seen in the runs "
            f"so far; {MIN_UPDATES} are needed for an observed cadence."
        )
    else:
        when = "stale since" if status is Status.FAIL else "stale after"
        reason = (
            f"Observed: {judged.updates_seen} distinct last updates, median {judged.interval_days} days "
            f"apart; last updated {_utc_text(last)}; {when} {_utc_text(turns_stale)} ({LOWER_BOUND})."
        )
    return CheckResult(OBSERVED_CHECK, status, value, reason, record.dataset_id, position)


@portal_check(OBSERVED_CHECK)
def observed_fresh(records: list[DatasetRecord], context: PortalContext) -> list[CheckResult]:
    """One observed-freshness result per dataset entry (repeats of an id share its history)."""
    judged_entries = _judged(records, context)
    return [observed_result(record, judged, position) for position, record, judged in judged_entries]


def _judged(
    records: list[DatasetRecord], context: PortalContext
) -> Iterator[tuple[int, DatasetRecord, ObservedFreshness]]:
    """(position, record, its observed judgment) of every dataset entry the history judged."""
    seen: Observation | None = context.history
    if seen is None:
        return
    observed = seen.observed
    for position, record in enumerate(records):
        if record.is_dataset and record.dataset_id in observed:
            yield position, record, observed[record.dataset_id]


def observed_inputs(seen: Observation | None) -> str | None:
    """A digest of what `observed_fresh` reads of the run's history: each dataset's observed
    judgment (the age itself aside: it moves every run, a result shows only its status). On the
    same records, the same digest is the same results (portal_reuse keeps their set); None
    without history."""
    if seen is None:
        return None
    text = "\n".join(
        f"{dataset_id}\t{judged.status}\t{judged.interval_days}\t{judged.updates_seen}"
        for dataset_id, judged in seen.observed.items()
    )
    return hashlib.sha256(text.encode()).hexdigest()


def observed_answers(records: list[DatasetRecord], context: PortalContext) -> list[CheckResult]:
    """`observed_fresh`'s statuses alone (no value, no reason), for a run that keeps its stored
    set: the evidence reads only each dataset's answer, and nothing of these is written."""
    return [
        CheckResult(OBSERVED_CHECK, observed_status(record, judged), None, "", record.dataset_id, position)
        for position, record, judged in _judged(records, context)
    ]


@portal_check(ACTIVITY_CHECK)
def catalog_activity(records: list[DatasetRecord], context: PortalContext) -> list[CheckResult]:
    """Datasets of this run added, and with data changed, in the past 365 days (seen between runs)."""
    seen: Observation | None = context.history
    if seen is None:
        return []
    activity = seen.activity
    value = {
        "score": None,  # evidence for the reviewer; the criterion's score comes from the catalog
        "window_days": activity.window_days,
        "runs_from": activity.runs_from.isoformat() if activity.runs_from else None,
        "added": len(activity.added),
        "data_changed": len(activity.data_changed),
    }
    if activity.runs_from is None:
        reason = "No earlier run of this portal: additions and data changes show from the second run on."
        return [CheckResult(ACTIVITY_CHECK, Status.NA, value, reason)]
    covered = "the past 365 days"
    if activity.runs_from > activity.since:
        covered += f" (runs from {activity.runs_from.date().isoformat()} only)"
    reason = (
        f"Seen between runs in {covered}: {len(activity.added)} datasets added, "
        f"{len(activity.data_changed)} more with data changed."
    )
    moved = activity.added or activity.data_changed
    return [CheckResult(ACTIVITY_CHECK, Status.PASS if moved else Status.FAIL, value, reason)]
