"""A harvest's entries: one dataset row per (id, occurrence), a version when the content
changes, and the snapshot's ordered entry list, stored once per distinct content.

Positions are indexes in the harvest's record list (`CatalogSnapshot.records`), so position
i is the i-th entry the portal listed; records that are not datasets have no entry.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.quick_init import quick_init
from wwc_pipeline.warehouse import packed_reads
from wwc_pipeline.warehouse.convert import jsonable
from wwc_pipeline.warehouse.digests import JSONText, entry_list_digest, record_data, record_digest_and_json
from wwc_pipeline.warehouse.models import Dataset, DatasetVersion, EntryList, SnapshotEntry
from wwc_pipeline.warehouse.writes import (
    NO_SYNC,
    PortalWriteStats,
    bulk_insert,
    insert_new_returning,
    insert_returning,
)


@quick_init
@dataclass(frozen=True, slots=True)
class Entry:
    """One dataset entry of the harvest as written: where it is and what it points at."""

    position: int
    dataset_id: str  # the portal's id
    occurrence: int
    dataset_pk: int
    version_pk: int
    repeat_of_position: int | None


@dataclass
class WrittenEntries:
    """The entry list of a portal write, for the check-result writes that follow."""

    entry_list_id: int
    by_position: dict[int, Entry] = field(default_factory=dict)
    first_position: dict[str, int] = field(default_factory=dict)  # dataset id -> first position
    stats: PortalWriteStats = PortalWriteStats(0, 0, 0)


@dataclass(frozen=True, slots=True)
class Listing:
    position: int
    record: DatasetRecord
    occurrence: int
    repeat_of_position: int | None
    content_hash: str
    stored_record: JSONText | dict  # record_data(record) as stored when the content changed:
    # its JSON text when it is plain JSON (the text its hash was taken of), else `jsonable` of it

    @property
    def key(self) -> tuple[str, int]:
        """(id, occurrence): what names its dataset row."""
        return (self.record.dataset_id, self.occurrence)


def listings(records: Sequence[DatasetRecord]) -> Iterator[Listing]:
    """The dataset entries in catalog order, each with its occurrence of its id (made as they are
    consumed: each holds its record's stored JSON, the largest part of a write)."""
    first: dict[str, int] = {}
    seen: dict[str, int] = {}
    for position, record in enumerate(records):
        if not record.is_dataset:
            continue
        occurrence = seen.get(record.dataset_id, 0) + 1
        seen[record.dataset_id] = occurrence
        first.setdefault(record.dataset_id, position)
        repeat_of = first[record.dataset_id] if occurrence > 1 else None
        data = record_data(record)
        digest, data_json = record_digest_and_json(data)
        stored = data_json if data_json is not None else jsonable(data)
        yield Listing(position, record, occurrence, repeat_of, digest, stored)


LISTINGS_AT_ONCE = 2000  # written a part at a time: a 40,000-dataset catalog's JSON is not all held


@dataclass
class _Known:
    """What the warehouse holds of the portal's dataset rows, updated as the parts are written."""

    current: dict[tuple[str, int], Any]  # (id, occurrence) -> its row's current version and hash
    dataset_pks: dict[tuple[str, int], int] = field(default_factory=dict)
    version_pks: dict[tuple[str, int], int] = field(default_factory=dict)
    versions: dict[tuple[str, int], int] = field(default_factory=dict)


def _known_rows(session: Session, portal_id: int) -> _Known:
    current = {
        (row.dataset_id, row.occurrence): row
        for row in session.execute(
            select(
                Dataset.id,
                Dataset.dataset_id,
                Dataset.occurrence,
                Dataset.current_version,
                Dataset.current_hash,
                DatasetVersion.id.label("version_pk"),
            )
            .join(
                DatasetVersion,
                (DatasetVersion.dataset_id == Dataset.id)
                & (DatasetVersion.version == Dataset.current_version),
            )
            .where(Dataset.portal_id == portal_id)
        )
    }
    return _Known(
        current,
        {key: row.id for key, row in current.items()},
        {key: row.version_pk for key, row in current.items()},
        {key: row.current_version for key, row in current.items()},
    )


@dataclass
class _Counts:
    new_datasets: int = 0
    new_versions: int = 0  # of rows already known
    changed: int = 0  # entries whose content is new: a new dataset or a new version
    rows_written: int = 0


def _write_part(
    session: Session, run_id: int, portal_id: int, part: list[Listing], known: _Known, counts: _Counts
) -> None:
    """Dataset rows for the part's new ids, versions for its changed contents."""
    fresh = [item for item in part if item.key not in known.current]
    if fresh:
        rows = [
            {
                "portal_id": portal_id,
                "dataset_id": item.record.dataset_id,
                "occurrence": item.occurrence,
                "title": item.record.title,
                "first_seen_run_id": run_id,
                "last_seen_run_id": run_id,
                "current_version": 1,
                "current_hash": item.content_hash,
            }
            for item in fresh
        ]
        for row in insert_returning(session, Dataset, rows, ["id", "dataset_id", "occurrence"]):
            known.dataset_pks[(row.dataset_id, row.occurrence)] = row.id
        counts.new_datasets += len(rows)
        counts.rows_written += len(rows)
    changed = [
        item
        for item in part
        if (key := item.key) not in known.current or known.current[key].current_hash != item.content_hash
    ]
    counts.changed += len(changed)
    if not changed:
        return
    for item in changed:
        known.versions[item.key] = known.versions.get(item.key, 0) + 1
    by_pk = {known.dataset_pks[item.key]: item for item in changed}
    rows = [
        {
            "dataset_id": pk,
            "version": known.versions[item.key],
            "content_hash": item.content_hash,
            "title": item.record.title,
            "record": item.stored_record,
            "first_run_id": run_id,
        }
        for pk, item in by_pk.items()
    ]
    for row in insert_returning(session, DatasetVersion, rows, ["id", "dataset_id"]):
        item = by_pk[row.dataset_id]
        known.version_pks[item.key] = row.id
    counts.rows_written += len(rows)
    bumped = [
        {
            "id": known.dataset_pks[key],
            "current_version": known.versions[key],
            "current_hash": item.content_hash,
            "title": item.record.title,
        }
        for item in changed
        if (key := item.key) in known.current
    ]
    if bumped:
        session.execute(update(Dataset), bumped)
        counts.new_versions += len(bumped)


def write_entries(
    session: Session,
    run_id: int,
    portal_id: int,
    records: Sequence[DatasetRecord],
    flags: Mapping[int, Sequence[str]] | None = None,
) -> WrittenEntries:
    """Datasets and versions (only on a changed hash), then the entry list (re-used when equal).
    The entries go `LISTINGS_AT_ONCE` at a time: only one part's stored JSON is held at once."""
    flags = flags or {}
    known = _known_rows(session, portal_id)
    counts = _Counts()
    entries: list[Entry] = []
    listed = listings(records)
    while part := list(islice(listed, LISTINGS_AT_ONCE)):
        _write_part(session, run_id, portal_id, part, known, counts)
        entries.extend(
            Entry(
                item.position,
                item.record.dataset_id,
                item.occurrence,
                known.dataset_pks[item.key],
                known.version_pks[item.key],
                item.repeat_of_position,
            )
            for item in part
        )
    entry_list_id, list_rows = write_entry_list(session, run_id, portal_id, entries, flags)
    mark_seen(session, run_id, entry_list_id)
    written = WrittenEntries(
        entry_list_id,
        stats=PortalWriteStats(
            new_datasets=counts.new_datasets,
            new_versions=counts.new_versions,
            unchanged=len(entries) - counts.changed,
            rows_written=counts.rows_written + list_rows,
        ),
    )
    for entry in entries:
        written.by_position[entry.position] = entry
        written.first_position.setdefault(entry.dataset_id, entry.position)
    return written


def write_entry_list(
    session: Session,
    run_id: int,
    portal_id: int,
    entries: list[Entry],
    flags: Mapping[int, Sequence[str]],
) -> tuple[int, int]:
    """The entry list's id (an equal list written before is re-used) and the rows inserted."""
    flagged = [sorted({str(flag) for flag in flags.get(entry.position, ())}) for entry in entries]
    digest = entry_list_digest(
        [(e.position, e.dataset_pk, e.version_pk, f) for e, f in zip(entries, flagged, strict=True)]
    )
    lookup = select(EntryList.id).where(EntryList.portal_id == portal_id, EntryList.digest == digest)
    existing = session.scalar(lookup)
    if existing is not None:
        return existing, 0
    row = {"portal_id": portal_id, "digest": digest, "entries": len(entries), "first_run_id": run_id}
    inserted = insert_new_returning(session, EntryList, [row], ["portal_id", "digest"], ["id"])
    if not inserted:  # a concurrent writer stored the same list a moment ago
        return session.scalar(lookup), 0
    entry_list_id = inserted[0].id
    if entries:
        bulk_insert(
            session,
            SnapshotEntry,
            [
                {
                    "entry_list_id": entry_list_id,
                    "position": entry.position,
                    "dataset_id": entry.dataset_pk,
                    "dataset_version_id": entry.version_pk,
                    "repeat_of_position": entry.repeat_of_position,
                    "flags": entry_flags,
                }
                for entry, entry_flags in zip(entries, flagged, strict=True)
            ],
        )
    return entry_list_id, 1 + len(entries)


def mark_seen(session: Session, run_id: int, entry_list_id: int) -> None:
    in_list = select(SnapshotEntry.dataset_id).where(SnapshotEntry.entry_list_id == entry_list_id)
    session.execute(
        update(Dataset)
        .where(Dataset.id.in_(in_list), Dataset.last_seen_run_id < run_id)
        .values(last_seen_run_id=run_id)
        .execution_options(**NO_SYNC)
    )


def stored_entries(session: Session, run_id: int, entry_list_id: int) -> WrittenEntries:
    """An entry list written before, as this run's (a catalog whose every page answered 304).
    Read packed, as plain tuples: a replay reads every entry of its catalog."""
    entries, datasets = SnapshotEntry.__table__.c, Dataset.__table__.c
    rows = packed_reads.rows(  # small tuples: a big catalog's in one packed read
        session.connection(),
        select(
            entries.position,
            datasets.dataset_id,
            datasets.occurrence,
            entries.dataset_id,
            entries.dataset_version_id,
            entries.repeat_of_position,
        )
        .join(Dataset.__table__, datasets.id == entries.dataset_id)
        .where(entries.entry_list_id == entry_list_id),
    )
    rows.sort(key=itemgetter(0))  # position order: an id's first listing comes first
    mark_seen(session, run_id, entry_list_id)
    written = WrittenEntries(entry_list_id, stats=PortalWriteStats(0, 0, len(rows), 0))
    by_position, first_position = written.by_position, written.first_position
    for position, dataset_id, occurrence, dataset_pk, version_pk, repeat_of in rows:
        by_position[position] = Entry(position, dataset_id, occurrence, dataset_pk, version_pk, repeat_of)
        first_position.setdefault(dataset_id, position)
    return written
