"""A portal's runs followed in as-of order: identity, changes and observed cadence per run.

The pure form of what the warehouse keeps: each dataset gets a lineage (a number that stays the
same across identifier changes), each run its changes since the previous run and the observed
freshness of each dataset. An identifier that comes back after missing from some runs keeps its
old lineage (its
scheme aside).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from wwc_pipeline.history.cadence import ObservedFreshness, observed_freshness
from wwc_pipeline.history.changes import RunChanges, changes_between
from wwc_pipeline.history.identity import distinct_datasets, match_datasets, without_scheme
from wwc_pipeline.model import DatasetRecord


@dataclass
class RunHistory:
    as_of: datetime
    lineage: dict[str, int]  # dataset id in this run -> lineage number
    changes: RunChanges | None  # None for the first run
    observed: dict[str, ObservedFreshness] = field(default_factory=dict)  # dataset id -> at this run


class Timeline:
    """Feed it a portal's runs in as-of order; it remembers what it needs from the earlier ones."""

    def __init__(self) -> None:
        self._previous: list[DatasetRecord] = []
        self._previous_lineage: dict[str, int] = {}
        self._lineage_of_id: dict[str, int] = {}  # every id ever seen, without its scheme -> its lineage
        self._updates: dict[int, set[datetime]] = defaultdict(set)  # lineage -> last updates seen
        self._runs = 0
        self._lineages = 0

    def add_run(self, records: Sequence[DatasetRecord], as_of: datetime) -> RunHistory:
        datasets = [record for record in records if record.is_dataset]
        first = self._runs == 0
        matching = match_datasets(self._previous, datasets)
        lineage: dict[str, int] = {}
        taken: set[int] = set()
        for dataset_id in distinct_datasets(datasets):
            old_id = matching.pairs.get(dataset_id)
            known = self._previous_lineage.get(old_id) if old_id is not None else None
            if known is None:
                known = self._lineage_of_id.get(without_scheme(dataset_id))
            if known is None or known in taken:
                self._lineages += 1
                known = self._lineages
            lineage[dataset_id] = known
            taken.add(known)
        self._lineage_of_id.update((without_scheme(key), number) for key, number in lineage.items())
        for record in datasets:
            if record.data_modified_at is not None:
                self._updates[lineage[record.dataset_id]].add(record.data_modified_at)
        observed = {
            dataset_id: observed_freshness(self._updates[number], record.data_modified_at, as_of)
            for dataset_id, record in distinct_datasets(datasets).items()
            for number in (lineage[dataset_id],)
        }
        changes = None if first else changes_between(self._previous, datasets, matching)
        self._previous, self._previous_lineage = datasets, lineage
        self._runs += 1
        return RunHistory(as_of, lineage, changes, observed)


def follow(runs: Iterable[tuple[datetime, Sequence[DatasetRecord]]]) -> list[RunHistory]:
    """The history of each run, in the order given (as-of order)."""
    timeline = Timeline()
    return [timeline.add_run(records, as_of) for as_of, records in runs]
