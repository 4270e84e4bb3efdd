"""Harvest anomalies a reviewer must see, judged on a whole harvest (plain functions).

Each returns the warning text, or None. A snapshot with warnings is `complete_with_warnings`.
The connectors and the paginator add their own as they page (a count that drifts beyond
`paging.COUNT_TOLERANCE`, ids repeated across pages, entries skipped); these are the ones
that need the whole catalog.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.paging import count_drift

SHOWN_IDS = 5


def repeated_ids(records: Sequence[DatasetRecord]) -> str | None:
    """Entries sharing an id are all kept (METRICS.md: keep both), and named here."""
    counts = Counter(record.dataset_id for record in records)
    repeated = [dataset_id for dataset_id, count in counts.items() if count > 1]
    if not repeated:
        return None
    extra = sum(counts[dataset_id] - 1 for dataset_id in repeated)
    shown = ", ".join(repeated[:SHOWN_IDS]) + (", ..." if len(repeated) > SHOWN_IDS else "")
    return f"{len(repeated)} ids appear more than once ({extra} repeated entries, all kept): {shown}"


def empty_catalog(records: Sequence[DatasetRecord]) -> str | None:
    """A portal that answered but lists nothing is no evidence of a portal: say so."""
    if not records:
        return "the portal answered, but its catalog lists no entries"
    if not any(record.is_dataset for record in records):
        return f"the catalog lists {len(records)} assets, none of them a dataset"
    return None


def count_mismatch(server_total: int | None, harvested: int) -> str | None:
    """The portal's own count against the entries the harvest kept (beyond the paging tolerance)."""
    drift = count_drift(server_total, harvested)
    return f"the portal counts {server_total} entries, the harvest kept {harvested}" if drift else None
