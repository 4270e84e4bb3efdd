"""Freshness checks (METRICS.md "Frequency", "Freshness"): is the cadence declared and kept?

The rules themselves live in the core (`wwc_pipeline.frequency`) so that `wwc evaluate`'s
freshness counts and these check results always agree.
"""

from __future__ import annotations

from datetime import datetime

from wwc_pipeline.checks.metadata import result

from wwc_pipeline.frequency import freshness, parse_frequency
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


@dataset_check("fresh")
def fresh(record: DatasetRecord, as_of: datetime) -> CheckResult:
    """Updated within 1.5 periods plus a day of the declared cadence."""
    status, age, period = freshness_of(record, as_of)
    value = {"status": status, "age_days": age, "period_days": period}
    if status == "unknown":
        reason = "Freshness unknown: no recognized frequency or no last update."
        return result("fresh", record, None, value, reason)
    if status == "no_cadence":
        return result("fresh", record, None, value, "The dataset declares no fixed cadence.")
    reason = f"Last updated {age:.1f} days ago; expected every {period} day(s)."
    return result("fresh", record, status == "fresh", value, reason)
