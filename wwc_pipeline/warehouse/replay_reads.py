"""What a harvest that every page answered 304 needs back from the warehouse: the previous
snapshot's page validators, and its records, rebuilt exactly as the harvest had made them.

A snapshot's dataset entries hold their versions' records; the assets that are not datasets
(charts, maps, stories) have no entry and travel in the snapshot's `harvest_replay` instead,
with their positions, so that the record list comes back in catalog order, whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from wwc_pipeline.model import CatalogSnapshot, Column, DatasetRecord, Distribution
from wwc_pipeline.warehouse.convert import portal_key
from wwc_pipeline.warehouse.models import (
    COMPLETE_STATUSES,
    CheckResultRow,
    DatasetVersion,
    Portal,
    ResultSet,
    ResultSetMember,
    Run,
    Snapshot,
    SnapshotEntry,
    SnapshotResultSet,
)

_TIMES = ("created_at", "metadata_modified_at", "data_modified_at")


@dataclass(frozen=True)
class ReplaySource:
    snapshot_id: int
    replay: dict[str, Any]


def replay_source(
    session: Session, city_id: str, platform: str, portal_url: str, before_run_id: int
) -> ReplaySource | None:
    """The portal's latest complete snapshot before the run (as-of order), when it can be replayed."""
    current = select(Run.as_of).where(Run.id == before_run_id).scalar_subquery()
    query = (
        select(Snapshot.id, Snapshot.harvest_replay)
        .join(Portal)
        .join(Run, Run.id == Snapshot.run_id)
        .where(
            Portal.city_id == city_id,
            Portal.platform == platform,
            Portal.url == portal_key(portal_url),
            Snapshot.status.in_(COMPLETE_STATUSES),
            or_(Run.as_of < current, and_(Run.as_of == current, Run.id < before_run_id)),
        )
        .order_by(Run.as_of.desc(), Run.id.desc())
        .limit(1)
    )
    row = session.execute(query).first()
    if row is None or not row.harvest_replay:
        return None
    return ReplaySource(row.id, row.harvest_replay)


def record_from_stored(data: dict[str, Any], flags: list[str] | None) -> DatasetRecord:
    """A record back from `digests.record_data` (times keep their own offsets), with its flags."""
    fields = dict(data)
    for name in _TIMES:
        value = fields.get(name)
        fields[name] = datetime.fromisoformat(value) if isinstance(value, str) and value else None
    fields["distributions"] = [Distribution(**item) for item in fields.get("distributions") or []]
    columns = fields.get("columns")
    fields["columns"] = None if columns is None else [Column(**item) for item in columns]
    fields["flags"] = list(flags or [])
    return DatasetRecord(**fields)


def reused_snapshot(session: Session, snapshot_id: int) -> CatalogSnapshot | None:
    """The snapshot's harvest as a CatalogSnapshot (`reused_from` set), or None when its records
    cannot be rebuilt whole."""
    snapshot = session.get(Snapshot, snapshot_id)
    if snapshot is None or snapshot.entry_list_id is None or not snapshot.harvest_replay:
        return None
    replay = snapshot.harvest_replay
    records: list[DatasetRecord | None] = [None] * snapshot.assets
    rows = session.execute(
        select(SnapshotEntry.position, SnapshotEntry.flags, DatasetVersion.record)
        .join(DatasetVersion, DatasetVersion.id == SnapshotEntry.dataset_version_id)
        .where(SnapshotEntry.entry_list_id == snapshot.entry_list_id)
    )
    for position, flags, data in rows:
        if not 0 <= position < len(records):
            return None
        records[position] = record_from_stored(data, flags)
    for position, data, flags in replay.get("assets") or []:
        if not 0 <= position < len(records):
            return None
        records[position] = record_from_stored(data, flags)
    if any(record is None for record in records):
        return None
    return CatalogSnapshot(
        platform=replay.get("platform") or "",
        portal=replay.get("portal") or "",
        records=records,  # type: ignore[arg-type] - no None left
        assets=snapshot.assets,
        pages=snapshot.pages,
        page_digests=list(snapshot.page_digests or []),
        warnings=list(snapshot.warnings or []),
        server_total=replay.get("server_total"),
        replay=replay,
        reused_from=snapshot_id,
    )


@dataclass(frozen=True)
class StoredResults:
    """A snapshot's results of some checks, to be reused as they are: the result set of each
    check, and each dataset entry's status under it (position -> check id -> status)."""

    entry_list_id: int
    set_ids: dict[str, int]
    statuses: dict[int, dict[str, str]]


def stored_results(session: Session, snapshot_id: int, check_ids: Sequence[str]) -> StoredResults | None:
    """The snapshot's result sets of `check_ids` and the status of every dataset entry under each;
    None when one entry lacks a result of one of them (nothing is reused then)."""
    entry_list_id = session.scalar(select(Snapshot.entry_list_id).where(Snapshot.id == snapshot_id))
    if entry_list_id is None:
        return None
    position_of = dict(
        session.execute(
            select(SnapshotEntry.dataset_version_id, SnapshotEntry.position).where(
                SnapshotEntry.entry_list_id == entry_list_id
            )
        ).all()
    )
    sets = session.execute(
        select(ResultSet.check_id, ResultSet.id)
        .join(SnapshotResultSet, SnapshotResultSet.result_set_id == ResultSet.id)
        .where(SnapshotResultSet.snapshot_id == snapshot_id, ResultSet.check_id.in_(list(check_ids)))
    ).all()
    set_ids = dict(sets)
    if set(set_ids) != set(check_ids):
        return None
    statuses: dict[int, dict[str, str]] = {position: {} for position in position_of.values()}
    rows = session.execute(
        select(ResultSet.check_id, CheckResultRow.dataset_version_id, CheckResultRow.status)
        .join(ResultSetMember, ResultSetMember.result_set_id == ResultSet.id)
        .join(CheckResultRow, CheckResultRow.id == ResultSetMember.check_result_id)
        .where(ResultSet.id.in_(list(set_ids.values())))
    )
    for check_id, version_id, status in rows:
        position = position_of.get(version_id)
        if position is None:  # a result about something that is not an entry: not a plain metric
            return None
        statuses[position][check_id] = status
    if any(len(found) != len(set_ids) for found in statuses.values()):
        return None
    return StoredResults(entry_list_id, set_ids, statuses)
