"""A run's datasets set against what the warehouse knows of the portal's earlier runs.

`PortalHistory` is plain data the warehouse reads (the run just before this one by as-of time,
and per dataset the last-update times seen and when); `observe` matches this run's datasets to
it and gives each one its lineage, its observed freshness, and the portal's activity over the
past year. Everything is judged as of the run's as-of time, from runs up to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from wwc_pipeline.frequency import aware
from wwc_pipeline.history.cadence import ObservedFreshness, observed_freshness
from wwc_pipeline.history.identity import Matching, Rename, distinct_datasets, match_datasets, without_scheme
from wwc_pipeline.model import DatasetRecord

ACTIVITY_DAYS = 365


@dataclass
class PortalHistory:
    """What the warehouse knows of a portal's runs before this one (keys: its dataset rows)."""

    previous_as_of: datetime | None = None
    previous_records: list[DatasetRecord] = field(default_factory=list)  # the run just before, by as-of
    previous_keys: dict[str, int] = field(default_factory=dict)  # id listed in that run -> dataset key
    known_keys: dict[str, int] = field(default_factory=dict)  # any id listed before, scheme dropped -> key
    first_as_of: datetime | None = None  # the portal's first run
    first_seen: dict[int, datetime] = field(default_factory=dict)  # key -> as-of of its first listing
    updates: dict[int, dict[datetime, datetime]] = field(default_factory=dict)  # key -> {last update: seen}

    @property
    def empty(self) -> bool:
        return self.first_as_of is None


@dataclass
class Activity:
    """Datasets of this run added, and with data changed, in the past year (as the runs saw it)."""

    window_days: int
    since: datetime
    runs_from: datetime | None  # the first run the history holds
    added: list[str] = field(default_factory=list)
    data_changed: list[str] = field(default_factory=list)


@dataclass
class Observation:
    matching: Matching
    keys: dict[str, int | None]  # dataset id in this run -> dataset key (None: never seen before)
    observed: dict[str, ObservedFreshness]  # dataset id -> observed freshness at this run
    activity: Activity
    renames: list[tuple[int, Rename]] = field(default_factory=list)  # (key of the old id's dataset, rename)


def _key_of(dataset_id: str, matching: Matching, history: PortalHistory) -> int | None:
    old_id = matching.pairs.get(dataset_id)
    if old_id is not None and old_id in history.previous_keys:
        return history.previous_keys[old_id]
    return history.known_keys.get(without_scheme(dataset_id))


def observe(history: PortalHistory, records: Sequence[DatasetRecord], as_of: datetime) -> Observation:
    """Identity, observed freshness and past-year activity of this run's datasets."""
    as_of = aware(as_of)
    current = distinct_datasets(records)
    listed_times: dict[str, list[datetime | None]] = {}
    for record in records:
        if record.is_dataset:
            listed_times.setdefault(record.dataset_id, []).append(record.data_modified_at)
    matching = match_datasets(history.previous_records, records)
    keys: dict[str, int | None] = {}
    taken: set[int] = set()
    for dataset_id in current:
        key = _key_of(dataset_id, matching, history)
        keys[dataset_id] = key if key not in taken else None  # two ids cannot continue one dataset
        if key is not None:
            taken.add(key)
    since = as_of - timedelta(days=ACTIVITY_DAYS)
    activity = Activity(ACTIVITY_DAYS, since, history.first_as_of)
    observed: dict[str, ObservedFreshness] = {}
    for dataset_id, record in current.items():
        key = keys[dataset_id]
        seen = history.updates.get(key, {}) if key is not None else {}
        times = [*seen, *listed_times[dataset_id]]
        observed[dataset_id] = observed_freshness(times, record.data_modified_at, as_of)
        if history.empty:
            continue  # the first run: nothing was added or changed, as far as anyone can tell
        first = history.first_seen.get(key) if key is not None else None
        if first is None or (first > since and first > history.first_as_of):
            activity.added.append(dataset_id)
        elif _changed_since(seen, first, record.data_modified_at, since):
            activity.data_changed.append(dataset_id)
    renames = [
        (history.previous_keys[rename.old_id], rename)
        for rename in matching.renames
        if rename.old_id in history.previous_keys and keys.get(rename.new_id) is not None
    ]
    return Observation(matching, keys, observed, activity, renames)


def _changed_since(
    seen: dict[datetime, datetime], first: datetime, last_update: datetime | None, since: datetime
) -> bool:
    """A last-update time not seen at the dataset's first listing appeared in a run after `since`
    (this run included, when its last update is one never seen before)."""
    if last_update is not None and aware(last_update) not in seen:
        return True
    return any(seen_at > since and seen_at > first for seen_at in seen.values())
