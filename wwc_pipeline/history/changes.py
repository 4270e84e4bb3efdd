"""What changed between two consecutive runs of a portal.

Added and removed come from the identity matching (`identity.match_datasets`); of the datasets
matched, `data_changed` are those whose last update (METRICS.md) moved and `metadata_changed`
those whose content hash moved while the last update did not. A renamed dataset can also be in
either of the last two lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from wwc_pipeline.history.identity import Matching, Rename, distinct_datasets, match_datasets
from wwc_pipeline.model import DatasetRecord

CHANGE_KINDS = ("added", "removed", "renamed", "data_changed", "metadata_changed")


@dataclass
class RunChanges:
    """The changes from one run to the next; ids are the current run's (the previous run's for removed)."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[Rename] = field(default_factory=list)
    data_changed: list[str] = field(default_factory=list)
    metadata_changed: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {kind: len(getattr(self, kind)) for kind in CHANGE_KINDS}

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "added": list(self.added),
            "removed": list(self.removed),
            "renamed": [
                {"old_id": rename.old_id, "new_id": rename.new_id, "rule": rename.rule}
                for rename in self.renamed
            ],
            "data_changed": list(self.data_changed),
            "metadata_changed": list(self.metadata_changed),
        }


def changes_between(
    previous: Sequence[DatasetRecord],
    current: Sequence[DatasetRecord],
    matching: Matching | None = None,
) -> RunChanges:
    """Added, removed, renamed, data changed and metadata changed from `previous` to `current`."""
    matching = matching or match_datasets(previous, current)
    old = distinct_datasets(previous)
    new = distinct_datasets(current)
    changes = RunChanges(
        added=list(matching.added), removed=list(matching.removed), renamed=list(matching.renames)
    )
    for new_id, record in new.items():
        old_id = matching.pairs.get(new_id)
        if old_id is None:
            continue
        before = old[old_id]
        if before.data_modified_at != record.data_modified_at:
            changes.data_changed.append(new_id)
        elif before.content_hash() != record.content_hash():
            changes.metadata_changed.append(new_id)
    return changes
