"""A city's trend over all its runs and the changes of one run since the previous one (as-of order).

The trend is read from the runs' own check results, so each point says what that run judged
as of its as-of time: datasets, shares with a description and an open licence, shares fresh by
the declared and by the observed cadence, datasets updated (and, observed between runs, added
or changed) in the past 365 days.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wwc_pipeline.history.changes import changes_between
from wwc_pipeline.warehouse.history_reads import listed_records, previous_snapshot
from wwc_pipeline.warehouse.models import (
    COMPLETE_STATUSES,
    CheckResultRow,
    Portal,
    ResultSet,
    ResultSetMember,
    Run,
    Snapshot,
    SnapshotResultSet,
)
from wwc_pipeline.warehouse.reads import iso

COMPLETED = ("succeeded", "partial")
SHARES = {  # trend field -> dataset check whose pass / (pass + fail) it is
    "share_with_description": "has_description",
    "share_open_licence": "open_license",
    "share_fresh_declared": "fresh",
    "share_fresh_observed": "observed_fresh",
}
ACTIVITY = {  # trend field -> (portal check, field of its value), summed over the city's portals
    "updated_last_365_days": ("portal.catalog_activity", "updated_last_365_days"),
    "observed_added_365_days": ("history.catalog_activity", "added"),
    "observed_data_changed_365_days": ("history.catalog_activity", "data_changed"),
}
CHANGE_ROWS_KEPT = 2000  # per portal and run; the counts are always complete


def city_runs(session: Session, city_id: str) -> list[Run]:
    """The city's completed runs in as-of order (ties by id)."""
    query = select(Run).where(Run.city_id == city_id, Run.status.in_(COMPLETED))
    return list(session.scalars(query.order_by(Run.as_of, Run.id)))


def _runs_snapshots(city_id: str) -> Any:
    return (
        select(Snapshot.run_id, Snapshot.id)
        .join(Run, Run.id == Snapshot.run_id)
        .where(Run.city_id == city_id, Run.status.in_(COMPLETED), Snapshot.status.in_(COMPLETE_STATUSES))
    )


def trend(session: Session, city_id: str) -> list[dict[str, Any]]:
    """One point per completed run, in as-of order."""
    snapshots = _runs_snapshots(city_id).subquery()
    datasets = dict(
        session.execute(
            select(Snapshot.run_id, func.sum(Snapshot.datasets))
            .where(Snapshot.id.in_(select(snapshots.c.id)))
            .group_by(Snapshot.run_id)
        ).all()
    )
    results = (
        select(snapshots.c.run_id, CheckResultRow.check_id, CheckResultRow.status, CheckResultRow.value)
        .select_from(snapshots)
        .join(SnapshotResultSet, SnapshotResultSet.snapshot_id == snapshots.c.id)
        .join(ResultSet, ResultSet.id == SnapshotResultSet.result_set_id)
        .join(ResultSetMember, ResultSetMember.result_set_id == ResultSet.id)
        .join(CheckResultRow, CheckResultRow.id == ResultSetMember.check_result_id)
    )
    shares = results.where(ResultSet.check_id.in_(SHARES.values())).subquery()
    counts: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: {"pass": 0, "fail": 0, "na": 0})
    for run_id, check_id, status, number in session.execute(
        select(shares.c.run_id, shares.c.check_id, shares.c.status, func.count()).group_by(
            shares.c.run_id, shares.c.check_id, shares.c.status
        )
    ):
        counts[(run_id, check_id)][status] = number
    activity: dict[tuple[int, str], int] = {}
    portal_checks = {check for check, _ in ACTIVITY.values()}
    for run_id, check_id, _, value in session.execute(results.where(ResultSet.check_id.in_(portal_checks))):
        for field, (check, key) in ACTIVITY.items():
            if check == check_id and isinstance(value, dict) and isinstance(value.get(key), int):
                activity[(run_id, field)] = activity.get((run_id, field), 0) + value[key]
    points = []
    for run in city_runs(session, city_id):
        point: dict[str, Any] = {
            "run_id": run.id,
            "as_of": iso(run.as_of),
            "kind": run.kind,
            "datasets": int(datasets.get(run.id) or 0),
        }
        for field, check_id in SHARES.items():
            tally = counts.get((run.id, check_id), {"pass": 0, "fail": 0, "na": 0})
            judged = tally["pass"] + tally["fail"]
            point[field] = round(tally["pass"] / judged, 4) if judged else None
            point[field.replace("share_", "judged_")] = judged
        for field in ACTIVITY:
            point[field] = activity.get((run.id, field))  # None: no portal of the run could tell
        points.append(point)
    return points


def changes_since_previous(session: Session, run: Run) -> list[dict[str, Any]]:
    """Per portal of the run: the changes since the portal's previous complete snapshot."""
    portals = []
    for snapshot, url in session.execute(
        select(Snapshot, Portal.url)
        .join(Portal, Portal.id == Snapshot.portal_id)
        .where(Snapshot.run_id == run.id, Snapshot.status.in_(COMPLETE_STATUSES))
        .order_by(Snapshot.id)
    ):
        previous = previous_snapshot(session, snapshot.portal_id, run.as_of, run.id)
        if previous is None:
            portals.append({"portal": url, "previous_run_id": None, "previous_as_of": None, "counts": None})
            continue
        before = [record for _, record in listed_records(session, previous.entry_list_id)]
        after = [record for _, record in listed_records(session, snapshot.entry_list_id)]
        changes = changes_between(before, after)
        portals.append(
            {
                "portal": url,
                "previous_run_id": previous.run_id,
                "previous_as_of": iso(previous.as_of),
                "counts": changes.counts(),
                "rows": change_rows(changes, before, after)[:CHANGE_ROWS_KEPT],
            }
        )
    return portals


def change_rows(changes: Any, before: list, after: list) -> list[dict[str, Any]]:
    """One row per change: kind, dataset id (the new one for a rename), title, detail."""
    old = {record.dataset_id: record for record in before}
    new = {record.dataset_id: record for record in after}
    renamed_to = {rename.new_id: rename for rename in changes.renamed}
    rows = [{"change": "added", "dataset_id": i, "title": new[i].title, "detail": ""} for i in changes.added]
    rows += [
        {"change": "removed", "dataset_id": i, "title": old[i].title, "detail": ""} for i in changes.removed
    ]
    rows += [
        {
            "change": "renamed",
            "dataset_id": rename.new_id,
            "title": new[rename.new_id].title,
            "detail": f"was {rename.old_id} (matched by {rename.rule.replace('_', ' ')})",
        }
        for rename in changes.renamed
    ]
    for dataset_id in changes.data_changed:
        earlier = old[renamed_to[dataset_id].old_id if dataset_id in renamed_to else dataset_id]
        was, now = iso(earlier.data_modified_at) or "—", iso(new[dataset_id].data_modified_at) or "—"
        moved = f"last update {was} → {now}"
        rows.append(
            {
                "change": "data changed",
                "dataset_id": dataset_id,
                "title": new[dataset_id].title,
                "detail": moved,
            }
        )
    rows += [
        {"change": "metadata changed", "dataset_id": i, "title": new[i].title, "detail": ""}
        for i in changes.metadata_changed
    ]
    return rows


def history_section(session: Session, city_id: str, run_id: int) -> dict[str, Any]:
    """The report's history: the trend over all runs and this run's changes since the previous."""
    run = session.get(Run, run_id)
    return {
        "trend": trend(session, city_id),
        "changes": changes_since_previous(session, run) if run is not None else [],
    }
