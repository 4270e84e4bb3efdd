"""Reads of a portal's past, always in as-of order: what a new run is set against, and the
records of a run as it listed them.

Runs are ordered by (as_of, id): a snapshot archived in 2018 and loaded today comes before
last night's run, whatever their insertion order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from wwc_pipeline.history.identity import without_scheme
from wwc_pipeline.history.observe import PortalHistory
from wwc_pipeline.model import CatalogSnapshot, Column, DatasetRecord, Distribution
from wwc_pipeline.warehouse import packed_reads
from wwc_pipeline.warehouse.convert import portal_key, utc
from wwc_pipeline.warehouse.models import (
    COMPLETE_STATUSES,
    Dataset,
    DatasetRename,
    DatasetVersion,
    Portal,
    Run,
    Snapshot,
    SnapshotEntry,
)
from wwc_pipeline.warehouse.writes import chunks

_TIMES = ("created_at", "metadata_modified_at", "data_modified_at")


def record_from_data(data: dict[str, Any]) -> DatasetRecord:
    """A DatasetRecord back from its stored `to_dict()` form (its content hash is the same)."""
    fields = dict(data)
    for name in _TIMES:
        fields[name] = _time(fields.get(name))
    fields["distributions"] = [Distribution(**item) for item in fields.get("distributions") or []]
    columns = fields.get("columns")
    fields["columns"] = None if columns is None else [Column(**item) for item in columns]
    return DatasetRecord(**fields)


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return utc(value)
    return utc(datetime.fromisoformat(value)) if isinstance(value, str) and value else None


def before(as_of: datetime, run_id: int | None) -> Any:
    """Runs earlier in as-of order than a run at `as_of` with id `run_id` (ties by id)."""
    as_of = utc(as_of)
    if run_id is None:
        return Run.as_of < as_of
    return or_(Run.as_of < as_of, and_(Run.as_of == as_of, Run.id < run_id))


def portal_id_of(session: Session, city_id: str, platform: str, portal_url: str) -> int | None:
    return session.scalar(
        select(Portal.id).where(
            Portal.city_id == city_id, Portal.platform == platform, Portal.url == portal_key(portal_url)
        )
    )


def complete_snapshots(portal_id: int) -> Any:
    """(snapshot id, entry list id, run id, as_of) of the portal's complete snapshots."""
    return (
        select(Snapshot.id, Snapshot.entry_list_id, Run.id.label("run_id"), Run.as_of)
        .join(Run, Run.id == Snapshot.run_id)
        .where(Snapshot.portal_id == portal_id, Snapshot.status.in_(COMPLETE_STATUSES))
    )


def previous_snapshot(session: Session, portal_id: int, as_of: datetime, run_id: int | None) -> Any:
    """The portal's latest complete snapshot before (as_of, run_id), or None."""
    query = complete_snapshots(portal_id).where(before(as_of, run_id))
    return session.execute(query.order_by(Run.as_of.desc(), Run.id.desc()).limit(1)).first()


def listed_records(session: Session, entry_list_id: int) -> list[tuple[int, DatasetRecord]]:
    """(dataset key, record as listed) of an entry list's first listings, in catalog order."""
    entries = SnapshotEntry.__table__.c
    rows = packed_reads.rows(
        session.connection(),
        select(entries.position, entries.dataset_id, DatasetVersion.__table__.c.record)
        .join(DatasetVersion.__table__, DatasetVersion.__table__.c.id == entries.dataset_version_id)
        .where(entries.entry_list_id == entry_list_id, entries.repeat_of_position.is_(None)),
    )
    rows.sort(key=itemgetter(0))
    return [(key, record_from_data(data)) for _, key, data in rows]


def replayed_records(
    session: Session, entry_list_id: int, records: Sequence[DatasetRecord]
) -> tuple[list[tuple[int, DatasetRecord]], dict[int, datetime | None]]:
    """`listed_records` of the entry list a 304 replay rebuilt `records` from (by position), and
    the last update of every version it lists: only the keys are read, not every record's JSON
    again."""
    entries = SnapshotEntry.__table__.c
    rows = packed_reads.rows(
        session.connection(),
        select(
            entries.position, entries.dataset_id, entries.dataset_version_id, entries.repeat_of_position
        ).where(entries.entry_list_id == entry_list_id),
    )
    rows.sort(key=itemgetter(0))
    listed = [(key, records[position]) for position, key, _, repeat_of in rows if repeat_of is None]
    updates = {version: utc(records[position].data_modified_at) for position, _, version, _ in rows}
    return listed, updates


def portal_history(
    session: Session,
    city_id: str,
    platform: str,
    portal_url: str,
    as_of: datetime,
    run_id: int | None,
    replay: CatalogSnapshot | None = None,
) -> PortalHistory:
    """Everything `history.observe` needs of the portal's runs before (as_of, run_id). `replay`:
    this run's snapshot; when it is the previous snapshot's records again (every page 304), the
    previous records are taken from it."""
    portal_id = portal_id_of(session, city_id, platform, portal_url)
    history = PortalHistory()
    if portal_id is None:
        return history
    previous = previous_snapshot(session, portal_id, as_of, run_id)
    if previous is None:
        return history
    history.previous_as_of = utc(previous.as_of)
    known_updates: dict[int, datetime | None] = {}  # version id -> last update, from the replay
    if replay is not None and replay.reused_from == previous.id:
        listed, known_updates = replayed_records(session, previous.entry_list_id, replay.records)
    else:
        listed = listed_records(session, previous.entry_list_id)
    for key, record in listed:
        history.previous_records.append(record)
        history.previous_keys.setdefault(record.dataset_id, key)
    merged = _merged_into(session, portal_id)
    rows = packed_reads.rows(
        session.connection(),
        select(Dataset.id, Dataset.dataset_id).where(Dataset.portal_id == portal_id, Dataset.occurrence == 1),
    )
    for key, dataset_id in rows:
        history.current_ids[key] = dataset_id
        history.known_keys[without_scheme(dataset_id)] = merged.get(key, key)
    for old_identifier, key in session.execute(  # identifiers a row carried before a rename
        select(DatasetRename.old_identifier, DatasetRename.dataset_id).where(
            DatasetRename.portal_id == portal_id
        )
    ):
        history.known_keys.setdefault(without_scheme(old_identifier), merged.get(key, key))
    earlier = complete_snapshots(portal_id).where(before(as_of, run_id)).subquery()
    entry_lists = (  # unchanged runs share one entry list: each is read once, at its first as-of
        select(earlier.c.entry_list_id, func.min(earlier.c.as_of).label("first_as_of"))
        .group_by(earlier.c.entry_list_id)
        .subquery()
    )
    first_listed = func.min(entry_lists.c.first_as_of)
    listings = packed_reads.rows(
        session.connection(),
        select(SnapshotEntry.dataset_id, SnapshotEntry.dataset_version_id, first_listed.label("first_listed"))
        .join(entry_lists, entry_lists.c.entry_list_id == SnapshotEntry.entry_list_id)
        .group_by(SnapshotEntry.dataset_id, SnapshotEntry.dataset_version_id),
    )
    unknown = {version for _, version, _ in listings if version not in known_updates}
    last_updates = {**_last_updates(session, unknown), **known_updates}
    for key, version, seen in listings:
        key, seen = merged.get(key, key), utc(seen)
        if history.first_as_of is None or seen < history.first_as_of:
            history.first_as_of = seen
        if key not in history.first_seen or seen < history.first_seen[key]:
            history.first_seen[key] = seen
        last_update = last_updates.get(version)
        if last_update is not None:
            times = history.updates.setdefault(key, {})
            if last_update not in times or seen < times[last_update]:
                times[last_update] = seen
    return history


def _last_updates(session: Session, version_ids: Iterable[int]) -> dict[int, datetime]:
    """Version id -> its record's last update (METRICS.md), for the versions that have one."""
    found: dict[int, datetime] = {}
    last_update = DatasetVersion.record["data_modified_at"].as_string()
    for part in chunks(sorted(version_ids)):
        for version, text in packed_reads.rows(
            session.connection(), select(DatasetVersion.id, last_update).where(DatasetVersion.id.in_(part))
        ):
            moment = _time(text)
            if moment is not None:
                found[version] = moment
    return found


def _merged_into(session: Session, portal_id: int) -> dict[int, int]:
    """Dataset key -> the key it continues as, for rows linked by a rename onto an existing row."""
    links = dict(
        session.execute(
            select(DatasetRename.from_dataset_id, DatasetRename.dataset_id).where(
                DatasetRename.portal_id == portal_id, DatasetRename.from_dataset_id.is_not(None)
            )
        ).all()
    )
    resolved = {}
    for start in links:
        key, seen = start, {start}
        while key in links and links[key] not in seen:
            key = links[key]
            seen.add(key)
        resolved[start] = key
    return resolved
