"""Observed update cadence: how often a dataset's data actually changed, seen from the runs.

Where a dataset declares no frequency (every ArcGIS Hub dataset), the portal's own history is
the evidence. From the runs up to a given run, take the distinct non-null last-update times seen,
sorted; with at least 3 of them, `observed_interval_days` is the median of the gaps between
consecutive ones (days, 1 decimal), else null. The observed freshness at that run is `unknown`
when the interval is null or the last update is missing, `stale` when age_days > 1.5 x interval
+ 1, else `fresh` (age_days as METRICS.md defines it, against the run's as-of time).

The interval is a lower bound on how often data changes, set by the spacing of the runs: a
dataset updated daily but seen twice a year shows an interval of about six months.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wwc_pipeline.frequency import age_in_days, aware

MIN_UPDATES = 3
OBSERVED_STATUSES = ("fresh", "stale", "unknown")


@dataclass(frozen=True)
class ObservedFreshness:
    status: str  # fresh | stale | unknown
    interval_days: float | None
    age_days: float | None
    updates_seen: int  # distinct last-update times seen up to this run

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "observed_interval_days": self.interval_days,
            "age_days": self.age_days,
            "updates_seen": self.updates_seen,
        }


def observed_interval_days(last_updates: Iterable[datetime | None]) -> float | None:
    """Median gap, in days (1 decimal), between the distinct last-update times; None below 3."""
    times = sorted({aware(time) for time in last_updates if time is not None})
    if len(times) < MIN_UPDATES:
        return None
    gaps = [
        (later - earlier).total_seconds() / 86400 for earlier, later in zip(times, times[1:], strict=False)
    ]
    return round(statistics.median(gaps), 1)


def observed_freshness(
    last_updates_seen: Iterable[datetime | None], last_update: datetime | None, as_of: datetime
) -> ObservedFreshness:
    """The observed freshness at a run, from the last-update times seen in the runs up to it.

    `last_updates_seen` holds this run's last update too (`last_update`); it is added if missing.
    """
    seen = {aware(time) for time in last_updates_seen if time is not None}
    if last_update is not None:
        seen.add(aware(last_update))
    interval = observed_interval_days(seen)
    age = age_in_days(last_update, as_of)
    if interval is None or age is None:
        status = "unknown"
    else:
        status = "stale" if age > 1.5 * interval + 1 else "fresh"
    return ObservedFreshness(status, interval, age, len(seen))
