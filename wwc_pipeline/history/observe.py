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
    current_ids: dict[int, str] = field(default_factory=dict)  # key -> the identifier its row carries now
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


def assign_keys(
    listed: Sequence[str], matching: Matching, history: PortalHistory
) -> tuple[dict[str, int | None], list[tuple[int, Rename]]]:
    """Each listed id's dataset key, and the renames the warehouse must apply to keep its rows.

    In order: the key of the previous run's dataset it matched; the key of the row that carries
    the id now; the key of a row that carried it (scheme aside) in an earlier run, which makes an
    `earlier_identifier` rename. A key goes to one id only.
    """
    keys: dict[str, int | None] = dict.fromkeys(listed)
    taken: set[int] = set()

    def claim(dataset_id: str, key: int | None) -> bool:
        if key is None or key in taken or keys[dataset_id] is not None:
            return False
        keys[dataset_id] = key
        taken.add(key)
        return True

    renames = []
    for rename in matching.renames:
        if claim(rename.new_id, history.previous_keys.get(rename.old_id)):
            renames.append((keys[rename.new_id], rename))
    for new_id, old_id in matching.pairs.items():
        claim(new_id, history.previous_keys.get(old_id))
    carried = {identifier: key for key, identifier in history.current_ids.items()}
    for dataset_id in listed:
        claim(dataset_id, carried.get(dataset_id))
    for dataset_id in listed:
        key = history.known_keys.get(without_scheme(dataset_id))
        if claim(dataset_id, key) and history.current_ids.get(key, dataset_id) != dataset_id:
            renames.append((key, Rename(history.current_ids[key], dataset_id, "earlier_identifier")))
    return keys, renames


def observe(history: PortalHistory, records: Sequence[DatasetRecord], as_of: datetime) -> Observation:
    """Identity, observed freshness and past-year activity of this run's datasets."""
    as_of = aware(as_of)
    current = distinct_datasets(records)
    listed_times: dict[str, list[datetime | None]] = {}
    for record in records:
        if record.is_dataset:
            listed_times.setdefault(record.dataset_id, []).append(record.data_modified_at)
    matching = match_datasets(history.previous_records, records)
    keys, renames = assign_keys(list(current), matching, history)
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
    return Observation(matching, keys, observed, activity, renames)


def _changed_since(
    seen: dict[datetime, datetime], first: datetime, last_update: datetime | None, since: datetime
) -> bool:
    """A last-update time not seen at the dataset's first listing appeared in a run after `since`
    (this run included, when its last update is one never seen before)."""
    if last_update is not None and aware(last_update) not in seen:
        return True
    return any(seen_at > since and seen_at > first for seen_at in seen.values())
