"""`observe`: a run set against the portal's earlier runs (as the warehouse hands them over)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import REAL_PORTALS
from wwc_pipeline.history.identity import without_scheme
from wwc_pipeline.history.observe import PortalHistory, observe
from wwc_pipeline.history.timeline import follow
from wwc_pipeline.model import DatasetRecord

T0 = datetime(2021, 1, 1, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def record(dataset_id: str, title: str, modified: datetime | None) -> DatasetRecord:
    return DatasetRecord("dcat", "hub", dataset_id, title=title, data_modified_at=modified)


def history_of(runs: list[tuple[datetime, list[DatasetRecord]]]) -> PortalHistory:
    """What the warehouse would hand over after these runs (keys: the timeline's lineages)."""
    followed = follow(runs)
    history = PortalHistory(first_as_of=runs[0][0] if runs else None)
    for (as_of, records), run in zip(runs, followed, strict=True):
        for r in records:
            key = run.lineage[r.dataset_id]
            history.known_keys[without_scheme(r.dataset_id)] = key
            history.first_seen.setdefault(key, as_of)
            if r.data_modified_at is not None:
                history.updates.setdefault(key, {}).setdefault(r.data_modified_at, as_of)
    if runs:
        history.previous_as_of, history.previous_records = runs[-1]
        history.previous_keys = dict(followed[-1].lineage)
    return history


def test_first_run_knows_nothing() -> None:
    seen = observe(PortalHistory(), [record("a", "A", day(0))], day(1))
    assert seen.keys == {"a": None}
    assert seen.observed["a"].status == "unknown"
    assert seen.activity.added == seen.activity.data_changed == []


def test_observed_freshness_continues_across_a_rename() -> None:
    runs = [
        (day(1), [record("http://hub/p", "Permits", day(0))]),
        (day(8), [record("http://hub/p", "Permits", day(7))]),
    ]
    seen = observe(history_of(runs), [record("https://hub/maps::p", "Permits", day(14))], day(15))
    assert seen.keys["https://hub/maps::p"] == follow(runs)[0].lineage["http://hub/p"]
    assert [(key, r.old_id, r.rule) for key, r in seen.renames] == [
        (seen.keys["https://hub/maps::p"], "http://hub/p", "unique_title")
    ]
    observed = seen.observed["https://hub/maps::p"]
    assert (observed.interval_days, observed.status, observed.updates_seen) == (7.0, "fresh", 3)


def test_activity_over_the_past_year() -> None:
    runs = [
        (
            day(0),
            [record("old", "Old", day(-500)), record("moved", "Moved", day(-400)), record("x", "X", None)],
        ),
        (day(100), [record("old", "Old", day(-500)), record("moved", "Moved", day(-400))]),
        (
            day(400),
            [record("old", "Old", day(-500)), record("moved", "Moved", day(50)), record("new1", "N", None)],
        ),
    ]
    now = [
        record("old", "Old", day(-500)),  # unchanged since the first run
        record("moved", "Moved", day(50)),  # changed, seen at day 400: within the year before day 600
        record("new1", "N", None),  # first listed at day 400 (not the first run): added this year
        record("new2", "N2", day(590)),  # new in this run
        record("x", "X", None),  # listed in the first run, gone, back: not added, same key
    ]
    seen = observe(history_of(runs), now, day(600))
    assert sorted(seen.activity.added) == ["new1", "new2"]
    assert seen.activity.data_changed == ["moved"]
    assert seen.keys["x"] == follow(runs)[0].lineage["x"]
    later = observe(history_of(runs), now, day(800))  # day 400 is more than a year before day 800
    assert later.activity.added == ["new2"] and later.activity.data_changed == []


def test_a_change_in_this_run_counts() -> None:
    runs = [(day(0), [record("a", "A", day(-10))]), (day(10), [record("a", "A", day(-10))])]
    seen = observe(history_of(runs), [record("a", "A", day(19))], day(20))
    assert seen.activity.data_changed == ["a"]


@pytest.fixture(scope="module")
def minneapolis_runs() -> list[tuple[datetime, list[DatasetRecord]]]:
    from wwc_pipeline.history.snapshots import LoadedSnapshot, read_snapshots

    folder = REAL_PORTALS / "history" / "minneapolis"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found (../shared absent)")
    loaded = [s for s in read_snapshots(folder) if isinstance(s, LoadedSnapshot)]
    return [(s.as_of, s.records) for s in loaded]


@pytest.mark.contract
def test_matches_the_timeline_on_minneapolis(minneapolis_runs) -> None:
    """The warehouse's path (history handed over, then one run) gives what following all runs gives."""
    runs = minneapolis_runs
    followed = follow(runs)
    for index in (4, 7, 11):
        seen = observe(history_of(runs[:index]), runs[index][1], runs[index][0])
        assert seen.observed == followed[index].observed
        assert {i: k for i, k in seen.keys.items() if k is not None} == {
            i: k for i, k in followed[index].lineage.items() if i in seen.keys and seen.keys[i] is not None
        }


def test_an_identifier_that_comes_back_returns_to_its_dataset() -> None:
    """Listed as a, then as b (same title: a rename), then as https a (new title): one dataset."""
    runs = [
        (day(0), [record("http://hub/a", "Scooters", day(-1))]),
        (day(10), [record("http://hub/b", "Scooters", day(9))]),
        (day(20), [record("https://hub/a", "Scooters 2019", day(19))]),
    ]
    first, second, third = follow(runs)
    assert first.lineage["http://hub/a"] == second.lineage["http://hub/b"] == third.lineage["https://hub/a"]
    assert [(r.old_id, r.new_id, r.rule) for _, r in third.observation.renames] == [
        ("http://hub/b", "https://hub/a", "earlier_identifier")
    ]
    assert third.changes.added == ["https://hub/a"] and third.changes.removed == ["http://hub/b"]
    assert third.observed["https://hub/a"].updates_seen == 3
