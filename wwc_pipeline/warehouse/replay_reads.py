"""What a harvest that every page answered 304 needs back from the warehouse: the previous
snapshot's page validators, and its records, rebuilt exactly as the harvest had made them.

A snapshot's dataset entries hold their versions' records; the assets that are not datasets
(charts, maps, stories) have no entry and travel in the snapshot's `harvest_replay` instead,
with their positions, so that the record list comes back in catalog order, whole.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Text, and_, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from wwc_pipeline.model import CatalogSnapshot, Column, DatasetRecord, Distribution
from wwc_pipeline.warehouse import packed_reads
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
    """The snapshot a replay would come from, and what revalidating its pages reads of its notes."""

    snapshot_id: int
    fingerprint: Any
    pages: list[dict[str, Any]] | None
    answers: str | None = None  # the digest of every document its harvest read (incremental.same_answers)


def replay_source(
    session: Session, city_id: str, platform: str, portal_url: str, before_run_id: int
) -> ReplaySource | None:
    """The portal's latest complete snapshot before the run (as-of order), when it can be replayed."""
    current = select(Run.as_of).where(Run.id == before_run_id).scalar_subquery()
    replay = Snapshot.harvest_replay  # only the parts a revalidation reads, taken out by the
    query = (  # database: the whole holds every non-dataset asset's record and every entry's statuses
        select(
            Snapshot.id,
            replay["fingerprint"].label("fingerprint"),
            replay["pages"].label("pages"),
            replay["answers"].label("answers"),
        )
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
    if row is None or row.fingerprint is None:
        return None
    return ReplaySource(row.id, row.fingerprint, row.pages, row.answers)


def replay_notes(session: Session, snapshot_id: int) -> dict[str, Any] | None:
    """The notes a snapshot keeps on its evaluation (`NOTE_KEYS` of its `harvest_replay`), for a
    harvest found to have read the same answers (incremental.same_answers); None without any."""
    keys = sorted(NOTE_KEYS)  # only the notes, taken out by the database (not the assets' records)
    row = session.execute(
        select(*(Snapshot.harvest_replay[key] for key in keys)).where(Snapshot.id == snapshot_id)
    ).first()
    notes = {key: value for key, value in zip(keys, row or (), strict=False) if value is not None}
    return notes or None


def json_value(stored: Any) -> Any:
    """A JSON column's value read as text (`type_coerce(column, Text)`, Core: a replay reads every
    record of its catalog, and the ORM's row handling cost more than the decoding); PostgreSQL's
    driver hands JSONB over decoded already."""
    return json.loads(stored) if isinstance(stored, str) else stored


_COLUMN_FIELDS = frozenset({"name", "description", "datatype", "field_name"})


def _column(item: dict[str, Any], made: dict[tuple, Column] | None) -> Column:
    """Column(**item); with `made`, one Column per distinct content (a frozen dataclass is slow to
    make, and a catalog's datasets repeat their columns: sharing an immutable one changes nothing)."""
    if made is None or item.keys() != _COLUMN_FIELDS:
        return Column(**item)
    key = (item["name"], item["description"], item["datatype"], item["field_name"])
    try:
        column = made.get(key)
    except TypeError:  # a value that is not text (not what a connector makes): not shared
        return Column(**item)
    if column is None:
        column = made[key] = Column(**item)
    return column


def record_from_stored(
    data: dict[str, Any], flags: list[str] | None, columns_made: dict[tuple, Column] | None = None
) -> DatasetRecord:
    """A record back from `digests.record_data` (times keep their own offsets), with its flags.
    `columns_made`: the Columns made so far for this catalog, shared by content."""
    fields = dict(data)
    for name in _TIMES:
        value = fields.get(name)
        fields[name] = datetime.fromisoformat(value) if isinstance(value, str) and value else None
    fields["distributions"] = [Distribution(**item) for item in fields.get("distributions") or []]
    columns = fields.get("columns")
    fields["columns"] = None if columns is None else [_column(item, columns_made) for item in columns]
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
    entries, versions = SnapshotEntry.__table__.c, DatasetVersion.__table__
    connection = session.connection()
    if connection.dialect.name == "sqlite":  # packed: the JSON arrives decoded
        query = select(entries.position, entries.flags, versions.c.record)
    else:  # Core, the JSON as text: json_value decodes it
        flags, record = type_coerce(entries.flags, Text), type_coerce(versions.c.record, Text)
        query = select(entries.position, flags, record)
    query = query.join(versions, versions.c.id == entries.dataset_version_id).where(
        entries.entry_list_id == snapshot.entry_list_id
    )
    columns_made: dict[tuple, Column] = {}
    for position, flags, data in packed_reads.by_positions(connection, query, entries.position, len(records)):
        if not 0 <= position < len(records):
            return None
        records[position] = record_from_stored(json_value(data), json_value(flags), columns_made)
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


# Key of `harvest_replay` holding the snapshot's per-entry statuses of its dataset metrics, one
# letter per metric (STATUS_LETTERS): what the next 304 replay needs of them without reading every
# result row. Written with the result sets, from the same outcome, in the same transaction.
STATUSES_KEY = "statuses"
NOTE_KEYS = frozenset({STATUSES_KEY, "portal_inputs"})  # notes on an evaluation (portal_reuse)
STATUS_LETTERS = {"pass": "p", "fail": "f", "na": "n"}
_STATUS_OF_LETTER = {letter: status for status, letter in STATUS_LETTERS.items()}
LETTER_OF_ANSWER = {True: STATUS_LETTERS["pass"], False: STATUS_LETTERS["fail"], None: STATUS_LETTERS["na"]}


def encoded_statuses(check_ids: Sequence[str], statuses: dict[int, dict[str, str]]) -> dict[str, Any]:
    """position -> check id -> status as the compact form kept in `harvest_replay`."""
    positions = sorted(statuses)
    codes = ["".join(STATUS_LETTERS[statuses[p][c]] for c in check_ids) for p in positions]
    return compact_statuses(check_ids, positions, codes)


def compact_statuses(check_ids: Sequence[str], positions: Sequence[int], codes: list[str]) -> dict[str, Any]:
    """The compact form itself: ascending positions, one code a position, a letter a check."""
    return {"checks": list(check_ids), "positions": list(positions), "codes": codes}


def decoded_statuses(kept: Any, check_ids: Sequence[str], entries: int) -> dict[int, dict[str, str]] | None:
    """The compact form back for `check_ids` (and any other check it holds), or None when it does
    not hold them all for exactly `entries` entries."""
    if not isinstance(kept, dict):
        return None
    checks, positions, codes = kept.get("checks") or [], kept.get("positions") or [], kept.get("codes") or []
    if not set(check_ids) <= set(checks) or len(positions) != entries or len(codes) != entries:
        return None
    statuses: dict[int, dict[str, str]] = {}
    for position, code in zip(positions, codes, strict=True):
        if len(code) != len(checks):
            return None
        statuses[position] = {c: _STATUS_OF_LETTER[letter] for c, letter in zip(checks, code, strict=True)}
    return statuses


@dataclass(frozen=True)
class StoredResults:
    """A snapshot's results of some checks, to be reused as they are: the result set of each
    check, and each dataset entry's status under it (position -> check id -> status).
    `other_sets`: the snapshot's sets of further checks (as-of metrics, portal checks), reused
    only when their inputs are found the same (`statuses` holds the as-of metrics' too when the
    snapshot kept them)."""

    entry_list_id: int
    set_ids: dict[str, int]
    statuses: dict[int, dict[str, str]]
    other_sets: dict[str, int] = field(default_factory=dict)
    # their portal-level results: (check id, status, value, reason) in check order
    other_results: list[tuple[str, str, Any, str]] = field(default_factory=list)
    compact: dict[str, Any] | None = None  # the compact form `statuses` was read from (None: the rows)


def stored_results(
    session: Session,
    snapshot_id: int,
    check_ids: Sequence[str],
    other_ids: Sequence[str] = (),
    unread_ids: Sequence[str] = (),
) -> StoredResults | None:
    """The snapshot's result sets of `check_ids` and the status of every dataset entry under each;
    None when one entry lacks a result of one of them (nothing is reused then). The statuses come
    from the snapshot's compact copy when it has one, else from the result rows. The sets of
    `other_ids` that the snapshot has come along, with their portal-level results except those of
    `unread_ids` (a set of one result per dataset: walking its members would find none)."""
    row = session.execute(  # of the replay notes, only the statuses
        select(Snapshot.entry_list_id, Snapshot.harvest_replay[STATUSES_KEY].label("kept")).where(
            Snapshot.id == snapshot_id
        )
    ).first()
    if row is None or row.entry_list_id is None:
        return None
    entry_list_id = row.entry_list_id
    sets = session.execute(
        select(ResultSet.check_id, ResultSet.id)
        .join(SnapshotResultSet, SnapshotResultSet.result_set_id == ResultSet.id)
        .where(
            SnapshotResultSet.snapshot_id == snapshot_id,
            ResultSet.check_id.in_([*check_ids, *other_ids]),
        )
    ).all()
    found_sets = dict(sets)
    set_ids = {check_id: found_sets[check_id] for check_id in check_ids if check_id in found_sets}
    if set(set_ids) != set(check_ids):
        return None
    entries = session.scalar(
        select(func.count()).select_from(SnapshotEntry).where(SnapshotEntry.entry_list_id == entry_list_id)
    )
    other_sets = {check_id: found_sets[check_id] for check_id in other_ids if check_id in found_sets}
    statuses = decoded_statuses(row.kept, check_ids, entries or 0)
    compact = row.kept if statuses is not None else None
    if statuses is None:
        statuses = statuses_from_rows(session, entry_list_id, set_ids)
    if statuses is None:
        return None
    read = [set_id for check_id, set_id in other_sets.items() if check_id not in unread_ids]
    others = portal_level_results(session, read) if read else []
    return StoredResults(entry_list_id, set_ids, statuses, other_sets, others, compact)


def portal_level_results(session: Session, set_ids: Sequence[int]) -> list[tuple[str, str, Any, str]]:
    """(check id, status, value, reason) of the portal-level results (no dataset) in these sets."""
    rows = session.execute(
        select(CheckResultRow.check_id, CheckResultRow.status, CheckResultRow.value, CheckResultRow.reason)
        .join(ResultSetMember, ResultSetMember.check_result_id == CheckResultRow.id)
        .where(ResultSetMember.result_set_id.in_(list(set_ids)), CheckResultRow.dataset_version_id.is_(None))
        .order_by(CheckResultRow.check_id, CheckResultRow.id)
    )
    return [tuple(row) for row in rows]


def statuses_from_rows(
    session: Session, entry_list_id: int, set_ids: dict[str, int]
) -> dict[int, dict[str, str]] | None:
    """position -> check id -> status read from the result rows of the sets (a snapshot written
    before the compact copy existed); None when an entry lacks one."""
    position_of = dict(
        session.execute(
            select(SnapshotEntry.dataset_version_id, SnapshotEntry.position).where(
                SnapshotEntry.entry_list_id == entry_list_id
            )
        ).all()
    )
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
    return statuses
