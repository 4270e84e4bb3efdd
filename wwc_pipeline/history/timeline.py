"""A portal's runs followed in as-of order: identity, changes and observed cadence per run.

The pure form of what the warehouse keeps, by the same code (`observe.observe`): each dataset
gets a lineage (a number that stays the same across identifier changes, as the warehouse's
dataset row does), each run its changes since the previous run and the observed freshness of
each dataset. An identifier that comes back after missing from some runs keeps its old lineage
(its scheme aside), even when the dataset was listed under another identifier in between.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from wwc_pipeline.frequency import aware
from wwc_pipeline.history.cadence import ObservedFreshness
from wwc_pipeline.history.changes import RunChanges, changes_between
from wwc_pipeline.history.identity import without_scheme
from wwc_pipeline.history.observe import Observation, PortalHistory, observe
from wwc_pipeline.model import DatasetRecord


@dataclass
class RunHistory:
    as_of: datetime
    lineage: dict[str, int]  # dataset id in this run -> lineage number
    changes: RunChanges | None  # None for the first run
    observed: dict[str, ObservedFreshness] = field(default_factory=dict)  # dataset id -> at this run
    observation: Observation | None = None


class Timeline:
    """Feed it a portal's runs in as-of order; it keeps the history a warehouse would."""

    def __init__(self) -> None:
        self.history = PortalHistory()
        self._lineages = 0

    def add_run(self, records: Sequence[DatasetRecord], as_of: datetime) -> RunHistory:
        as_of = aware(as_of)
        history = self.history
        datasets = [record for record in records if record.is_dataset]
        seen = observe(history, datasets, as_of)
        lineage: dict[str, int] = {}
        for dataset_id, key in seen.keys.items():
            if key is None:
                self._lineages += 1
                key = self._lineages
            lineage[dataset_id] = key
        changes = (
            None if history.empty else changes_between(history.previous_records, datasets, seen.matching)
        )
        for key, rename in seen.renames:  # the row moves to its new identifier
            history.current_ids[key] = rename.new_id
        for dataset_id, key in lineage.items():
            history.current_ids.setdefault(key, dataset_id)
            history.known_keys[without_scheme(dataset_id)] = key
        for record in datasets:
            key = lineage[record.dataset_id]
            history.first_seen.setdefault(key, as_of)
            if record.data_modified_at is not None:
                history.updates.setdefault(key, {}).setdefault(aware(record.data_modified_at), as_of)
        history.first_as_of = history.first_as_of or as_of
        history.previous_as_of, history.previous_records = as_of, datasets
        history.previous_keys = dict(lineage)
        return RunHistory(as_of, lineage, changes, seen.observed, seen)


def follow(runs: Iterable[tuple[datetime, Sequence[DatasetRecord]]]) -> list[RunHistory]:
    """The history of each run, in the order given (as-of order)."""
    timeline = Timeline()
    return [timeline.add_run(records, as_of) for as_of, records in runs]
