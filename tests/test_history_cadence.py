"""Observed update cadence: interval from distinct last-update times, freshness against it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wwc_pipeline.history.cadence import observed_freshness, observed_interval_days
from wwc_pipeline.history.timeline import follow
from wwc_pipeline.model import DatasetRecord

T0 = datetime(2021, 1, 1, tzinfo=UTC)


def days(*offsets: float) -> list[datetime]:
    return [T0 + timedelta(days=offset) for offset in offsets]


def test_fewer_than_three_distinct_times_give_no_interval() -> None:
    assert observed_interval_days(days(0, 10, 10, 0)) is None
    assert observed_interval_days([None, *days(0, 10)]) is None
    assert observed_interval_days(days(0, 10, 30)) == 15.0  # gaps 10, 20


def test_interval_is_the_median_gap_rounded_to_one_decimal() -> None:
    # Sorted 0, 7, 14, 44.5: gaps 7, 7, 30.5 -> 7.0; order and repeats do not matter.
    assert observed_interval_days(days(44.5, 0, 14, 7, 7)) == 7.0
    # Four gaps 1, 2, 4, 8 (days 0, 1, 3, 7, 15): median (2 + 4) / 2 = 3.0.
    assert observed_interval_days(days(0, 1, 3, 7, 15)) == 3.0
    # Gaps of 1 h 12 min = 0.05 d and 2.26 d: median of 3 gaps.
    assert observed_interval_days(days(0, 0.05, 2.31, 4.57)) == 2.3


def test_freshness_threshold_is_one_and_a_half_intervals_plus_a_day() -> None:
    seen = days(0, 10, 20)  # interval 10.0: stale beyond 16 days
    last = seen[-1]
    assert observed_freshness(seen, last, last + timedelta(days=16)).status == "fresh"
    assert observed_freshness(seen, last, last + timedelta(days=16, seconds=1)).status == "stale"
    judged = observed_freshness(seen, last, last + timedelta(days=3))
    assert (judged.interval_days, judged.age_days, judged.updates_seen) == (10.0, 3.0, 3)


def test_unknown_without_interval_or_last_update() -> None:
    assert (
        observed_freshness(days(0, 10), T0 + timedelta(days=10), T0 + timedelta(days=11)).status == "unknown"
    )
    missing = observed_freshness(days(0, 10, 20), None, T0 + timedelta(days=21))
    assert (missing.status, missing.interval_days, missing.age_days) == ("unknown", 10.0, None)


def test_the_runs_own_last_update_counts_and_a_future_date_is_kept() -> None:
    judged = observed_freshness(days(0, 10), T0 + timedelta(days=20), T0 + timedelta(days=19))
    assert (judged.interval_days, judged.age_days, judged.status) == (10.0, -1.0, "fresh")


def test_timeline_gathers_times_per_dataset_across_runs_and_renames() -> None:
    def record(dataset_id: str, modified: datetime | None) -> DatasetRecord:
        return DatasetRecord("dcat", "hub", dataset_id, title="Permits", data_modified_at=modified)

    runs = [
        (T0 + timedelta(days=1), [record("http://hub/p", T0)]),
        (T0 + timedelta(days=8), [record("https://hub/p", T0 + timedelta(days=7))]),
        (T0 + timedelta(days=9), [record("https://hub/p", None)]),
        (T0 + timedelta(days=15), [record("https://hub/maps::p", T0 + timedelta(days=14))]),
        (T0 + timedelta(days=40), [record("https://hub/maps::p", T0 + timedelta(days=14))]),
    ]
    results = [
        run.observed[dataset_id]
        for run, (_, [r]) in zip(follow(runs), runs, strict=True)
        for dataset_id in [r.dataset_id]
    ]
    assert [r.status for r in results] == ["unknown", "unknown", "unknown", "fresh", "stale"]
    assert results[3].interval_days == 7.0 and results[4].age_days == 26.0  # 26 > 1.5 x 7 + 1
