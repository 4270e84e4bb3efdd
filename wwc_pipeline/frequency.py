"""Declared update frequencies and freshness (METRICS.md "Frequency" and "Freshness").

Real portals declare cadence as ISO 8601 repeating rules (`R/P1W`) or as prose ("Data are
updated daily"); both are read here into a period in days, so that freshness is judged the
same way whichever platform serves a dataset. This is core logic: `evaluate` and the
`fresh` check both use it, so the two can never disagree.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Literal

from wwc_pipeline.model import DatasetRecord

FrequencyKind = Literal["period", "no_cadence", "unrecognized", "missing"]
FreshnessStatus = Literal["fresh", "stale", "no_cadence", "unknown"]

_ISO_RULE = re.compile(r"R/P(T?)(\d+(?:\.\d+)?)([YMWDHS])", re.IGNORECASE)
_ISO_UNIT_DAYS = {"Y": 365.25, "M": 30.4375, "W": 7.0, "D": 1.0}

_NO_CADENCE = None
_CADENCE_PHRASES: dict[str, int | None] = {}
for _days, _phrases in (
    (
        1,
        "continuous, continuously, real time, realtime, minute, minutes, hour, hours, hourly, "
        "multiple times a day, multiple times per day, several times a day, times a day, "
        "times per day, daily, every day, nightly",
    ),
    (4, "twice weekly, twice a week, semiweekly, semi weekly"),
    (7, "weekly, every week"),
    (14, "biweekly, bi weekly, every two weeks, every 2 weeks, fortnightly"),
    (16, "semimonthly, semi monthly, twice a month"),
    (31, "monthly, every month"),
    (61, "bimonthly, bi monthly, every two months, every 2 months"),
    (92, "quarterly, every three months, every 3 months"),
    (
        183,
        "semiannual, semiannually, semi annual, semi annually, biannual, biannually, bi annual, "
        "twice a year, every six months, every 6 months",
    ),
    (366, "annual, annually, yearly, every year"),
    (731, "biennial, biennially, every two years, every 2 years"),
    (1096, "triennial, every three years, every 3 years"),
    (
        _NO_CADENCE,
        "as needed, as available, irregular, irregularly, other, never, not updated, historical, "
        "static, one time, no longer updated, discontinued, not planned, on demand, ad hoc",
    ),
):
    for _phrase in _phrases.split(","):
        _CADENCE_PHRASES[_phrase.strip()] = _days

# Longest first, so that at one start position the regex engine takes the longest phrase;
# re.search itself returns the leftmost start.
_PHRASE_PATTERN = re.compile(
    r"(?<![^\W_])("
    + "|".join(re.escape(phrase) for phrase in sorted(_CADENCE_PHRASES, key=len, reverse=True))
    + r")(?![^\W_])"
)
_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]")


@dataclass(frozen=True)
class Frequency:
    """What a declared frequency says: a period in days, no cadence, unrecognized or missing."""

    kind: FrequencyKind
    period_days: int | None = None

    @property
    def recognized(self) -> bool:
        return self.kind in ("period", "no_cadence")


@lru_cache(maxsize=4096)
def parse_frequency(text: str | None) -> Frequency:
    """Read a frequency text by the rules of METRICS.md "Frequency" (cached: a catalog repeats a
    few texts over thousands of datasets, and `fresh` reads it on every run; Frequency is frozen)."""
    if text is None or not text.strip():
        return Frequency("missing")
    stripped = text.strip()
    iso = _ISO_RULE.fullmatch(stripped)
    if iso:
        time_part, number, unit = iso.group(1), float(iso.group(2)), iso.group(3).upper()
        if time_part or unit not in _ISO_UNIT_DAYS:
            return Frequency("period", 1)
        return Frequency("period", max(1, math.ceil(number * _ISO_UNIT_DAYS[unit])))
    normalized = _NOT_LETTER_OR_DIGIT.sub(" ", stripped.lower())
    found = _PHRASE_PATTERN.search(normalized)
    if not found:
        return Frequency("unrecognized")
    days = _CADENCE_PHRASES[found.group(1)]
    if days is None:
        return Frequency("no_cadence")
    return Frequency("period", days)


@dataclass(frozen=True)
class Freshness:
    """A dataset's freshness status with the age and period it was judged on."""

    status: FreshnessStatus
    age_days: float | None
    period_days: int | None


def aware(moment: datetime) -> datetime:
    """A time without an offset is UTC (METRICS.md "Times")."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def age_in_days(last_update: datetime | None, as_of: datetime) -> float | None:
    """Days from the last update to `as_of` (negative for a future date, kept as it is)."""
    if last_update is None:
        return None
    return (aware(as_of) - aware(last_update)).total_seconds() / 86400


def freshness(record: DatasetRecord, as_of: datetime) -> Freshness:
    """METRICS.md "Freshness": unknown, then no_cadence, then stale / fresh."""
    frequency = parse_frequency(record.declared_frequency)
    age = age_in_days(record.data_modified_at, as_of)
    period = frequency.period_days if frequency.kind == "period" else None
    if not frequency.recognized or age is None:
        status: FreshnessStatus = "unknown"
    elif frequency.kind == "no_cadence":
        status = "no_cadence"
    elif age > 1.5 * period + 1:
        status = "stale"
    else:
        status = "fresh"
    return Freshness(status, age, period)
