"""Freshness checks (METRICS.md "Frequency", "Freshness"): is the cadence declared and kept?

The rules themselves live in the core (`wwc_pipeline.frequency`) so that `wwc evaluate`'s
freshness counts and these check results always agree.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wwc_pipeline.checks.metadata import result

from wwc_pipeline.frequency import aware, freshness, parse_frequency
from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.registry import dataset_check
from wwc_pipeline.results import CheckResult


def freshness_of(record: DatasetRecord, as_of: datetime) -> tuple[str, float | None, int | None]:
    """(status, age_days, period_days) of one dataset as of a time."""
    judged = freshness(record, as_of)
    return judged.status, judged.age_days, judged.period_days


@dataset_check("declares_frequency")
def declares_frequency(record: DatasetRecord, as_of: datetime) -> CheckResult:
    frequency = parse_frequency(record.declared_frequency)
    declared = record.declared_frequency
    if frequency.kind == "missing":
        return result("declares_frequency", record, False, None, "No update frequency is declared.")
    if frequency.kind == "unrecognized":
        reason = f"Frequency {declared!r} is not recognized."
        return result("declares_frequency", record, False, declared, reason)
    if frequency.kind == "no_cadence":
        reason = f"Frequency {declared!r}: no fixed cadence."
    else:
        reason = f"Frequency {declared!r}: every {frequency.period_days} day(s)."
    return result("declares_frequency", record, True, declared, reason)


def stale_after(record: DatasetRecord, period_days: int | None) -> datetime | None:
    """When the dataset turns stale (METRICS.md: 1.5 periods plus a day after its last update)."""
    if record.data_modified_at is None or period_days is None:
        return None
    return aware(record.data_modified_at).astimezone(UTC) + timedelta(days=1.5 * period_days + 1)


def utc_text(moment: datetime) -> str:
    return aware(moment).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def fresh_answer(status: str) -> bool | None:
    """`fresh`'s answer (its result's pass / fail / n/a) for a freshness status: what a replay
    compares with the stored status before building any result (incremental.evaluate_as_of_metrics)."""
    return None if status in ("unknown", "no_cadence") else status == "fresh"


@dataset_check("fresh")
def fresh(record: DatasetRecord, as_of: datetime) -> CheckResult:
    """Updated within 1.5 periods plus a day of the declared cadence.

    The value and reason state the last update, the period and the moment the dataset turns
    stale, never an age: they do not change from one run to the next while the dataset does
    not, so the warehouse stores the result once (the age is in `wwc evaluate --details`).
    """
    status, _, period = freshness_of(record, as_of)
    turns_stale = stale_after(record, period)
    last_update = record.data_modified_at
    value = {
        "status": status,
        "last_update": aware(last_update).astimezone(UTC).isoformat() if last_update else None,
        "period_days": period,
        "stale_after": turns_stale.isoformat() if turns_stale else None,
    }
    if status == "unknown":
        reason = "Freshness unknown: no recognized frequency or no last update."
        return result("fresh", record, fresh_answer(status), value, reason)
    if status == "no_cadence":
        return result("fresh", record, fresh_answer(status), value, "The dataset declares no fixed cadence.")
    when = "stale since" if status == "stale" else "stale after"
    reason = (
        f"Last updated {utc_text(last_update)}; expected every {period} day(s); "
        f"{when} {utc_text(turns_stale)}."
    )
    return result("fresh", record, fresh_answer(status), value, reason)
