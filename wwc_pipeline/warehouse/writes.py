"""The writes of one portal in one run, inside the caller's transaction: shared helpers, the
portal and snapshot rows, and undoing an earlier write of the same (run, portal).

Every function here takes an open Session and never commits: `Warehouse.record_portal` wraps
them in one transaction, so an error anywhere leaves nothing of the portal behind. The entries
are written by entry_writes.py, the check results by result_writes.py.
"""

from __future__ import annotations

import dataclasses
from collections import namedtuple
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from wwc_pipeline.model import CatalogSnapshot
from wwc_pipeline.warehouse import sqlite_bulk
from wwc_pipeline.warehouse.convert import jsonable, now, portal_key, utc
from wwc_pipeline.warehouse.engine import WarehouseError
from wwc_pipeline.warehouse.models import (
    COMPLETE_STATUSES,
    CheckResultRow,
    Dataset,
    DatasetVersion,
    EntryList,
    Portal,
    ResultSet,
    ResultSetMember,
    Run,
    Snapshot,
    SnapshotEntry,
    SnapshotResultSet,
)

NO_SYNC = {"synchronize_session": False}


@dataclasses.dataclass(frozen=True)
class PortalWriteStats:
    """What one portal write did: new_datasets + new_versions + unchanged = dataset entries
    (repeats included). `rows_written` counts every row inserted (not compared)."""

    new_datasets: int
    new_versions: int
    unchanged: int
    rows_written: int = dataclasses.field(default=0, compare=False)


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def bulk_insert(session: Session, model: type, rows: list[dict]) -> None:
    """Many rows at once: COPY on PostgreSQL (pg_copy.py), one executemany on SQLite (a C loop)."""
    if not rows:
        return
    if is_postgresql(session):
        from wwc_pipeline.warehouse import pg_copy  # psycopg is there only with PostgreSQL

        pg_copy.copy_rows(session, model.__table__, rows)
        return
    if not sqlite_bulk.executemany(session, model.__table__, rows):
        session.execute(insert(model.__table__), rows)


def require_run(session: Session, run_id: int, city_id: str) -> Run:
    run = session.get(Run, run_id)
    if run is None or run.city_id != city_id:
        raise WarehouseError(f"run {run_id} of city {city_id!r} not found; start it with start_run()")
    return run


def upsert_dialect(session: Session) -> Any:
    return postgresql if is_postgresql(session) else sqlite


def insert_ignoring_conflicts(session: Session, model: type, values: dict, keys: list[str]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING (SQLite and PostgreSQL spell it the same way)."""
    insert_statement = upsert_dialect(session).insert(model)
    session.execute(insert_statement.values(**values).on_conflict_do_nothing(index_elements=keys))


def insert_new_returning(
    session: Session, model: type, rows: list[dict], keys: list[str], returning: list[str]
) -> list[Any]:
    """Bulk INSERT ... ON CONFLICT DO NOTHING RETURNING `returning` columns: the rows this call
    inserted (a row that a concurrent writer inserted first is skipped; the caller looks it up).
    Core, not ORM: one executemany, batched by SQLAlchemy's insertmanyvalues."""
    if not rows:
        return []
    table = model.__table__
    statement = upsert_dialect(session).insert(table).on_conflict_do_nothing(index_elements=keys)
    return list(session.execute(statement.returning(*(table.c[name] for name in returning)), rows))


def bulk_insert_new(
    session: Session, model: type, rows: list[dict], keys: list[str], returning: Sequence[str] = ()
) -> list[tuple]:
    """Many rows at once, skipping those whose `keys` are taken (by a concurrent writer): COPY
    through a staging table on PostgreSQL, executemany of INSERT ... ON CONFLICT DO NOTHING on
    SQLite. The `returning` columns of the rows added, where the database tells them in the same
    statement (PostgreSQL); elsewhere none: the caller looks up what it needs."""
    if not rows:
        return []
    if is_postgresql(session):
        from wwc_pipeline.warehouse import pg_copy

        return pg_copy.copy_new_rows(session, model.__table__, rows, keys, returning)
    if not sqlite_bulk.executemany(session, model.__table__, rows, keys):
        statement = upsert_dialect(session).insert(model.__table__)
        session.execute(statement.on_conflict_do_nothing(index_elements=keys), rows)
    return []


def insert_returning(session: Session, model: type, rows: list[dict], returning: list[str]) -> list[Any]:
    """Bulk INSERT ... RETURNING `returning` columns (Core, one executemany). When they are the id
    and columns of the rows themselves, SQLite numbers the rows as it inserts them instead
    (sqlite_bulk.insert_numbered: no RETURNING round through SQLAlchemy's result rows), and
    PostgreSQL COPYs them with ids drawn from their sequence (pg_copy.copy_numbered)."""
    table = model.__table__
    if rows and returning[0] == "id" and all(name in rows[0] for name in returning[1:]):
        if is_postgresql(session):
            from wwc_pipeline.warehouse import pg_copy

            numbered = pg_copy.copy_numbered(session, table, rows)
        else:
            numbered = sqlite_bulk.insert_numbered(session, table, rows)
        if numbered is not None:
            made = namedtuple("Inserted", returning)  # attribute and tuple access, as Row gives
            return [
                made(pk, *(row[name] for name in returning[1:]))
                for row, pk in zip(rows, numbered, strict=True)
            ]
    return list(session.execute(insert(table).returning(*(table.c[name] for name in returning)), rows))


def chunks(items: list, size: int = 2000) -> Iterable[list]:
    """Slices of a list, to keep IN (...) lists under the database's parameter limits."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def ensure_portal(session: Session, city_id: str, platform: str, portal_url: str) -> int:
    url = portal_key(portal_url)
    values = {"city_id": city_id, "platform": platform, "url": url, "domain": urlparse(url).netloc or url}
    insert_ignoring_conflicts(session, Portal, values, ["city_id", "platform", "url"])
    query = select(Portal.id).where(Portal.city_id == city_id, Portal.platform == platform, Portal.url == url)
    return session.scalar(query)


def clear_portal_run(session: Session, run_id: int, portal_id: int) -> None:
    """Undo an earlier write of this (run, portal), so that writing it again replaces it.

    The snapshot goes; so does whatever this run created that no other snapshot shares: its
    result set, check results, entry list, dataset versions and datasets.
    """
    snapshot_id = session.scalar(
        select(Snapshot.id).where(Snapshot.run_id == run_id, Snapshot.portal_id == portal_id)
    )
    if snapshot_id is None:
        return
    session.execute(delete(Snapshot).where(Snapshot.id == snapshot_id))
    mine = {"portal_id": portal_id, "first_run_id": run_id}
    unused_set = ~exists().where(SnapshotResultSet.result_set_id == ResultSet.id)
    session.execute(delete(ResultSet).filter_by(**mine).where(unused_set).execution_options(**NO_SYNC))
    unused_result = ~exists().where(ResultSetMember.check_result_id == CheckResultRow.id)
    session.execute(
        delete(CheckResultRow).filter_by(**mine).where(unused_result).execution_options(**NO_SYNC)
    )
    unused_list = ~exists().where(Snapshot.entry_list_id == EntryList.id)
    session.execute(delete(EntryList).filter_by(**mine).where(unused_list).execution_options(**NO_SYNC))
    portal_datasets = select(Dataset.id).where(Dataset.portal_id == portal_id)
    session.execute(
        delete(DatasetVersion)
        .where(
            DatasetVersion.first_run_id == run_id,
            DatasetVersion.dataset_id.in_(portal_datasets),
            ~exists().where(SnapshotEntry.dataset_version_id == DatasetVersion.id),
            ~exists().where(CheckResultRow.dataset_version_id == DatasetVersion.id),
        )
        .execution_options(**NO_SYNC)
    )
    has_version = exists().where(DatasetVersion.dataset_id == Dataset.id)
    session.execute(
        delete(Dataset).where(Dataset.portal_id == portal_id, ~has_version).execution_options(**NO_SYNC)
    )
    restore_current_versions(session, portal_id)
    last_seen = (
        select(func.max(Snapshot.run_id))
        .join(SnapshotEntry, SnapshotEntry.entry_list_id == Snapshot.entry_list_id)
        .where(SnapshotEntry.dataset_id == Dataset.id)
        .scalar_subquery()
    )
    session.execute(
        update(Dataset)
        .where(Dataset.portal_id == portal_id, Dataset.last_seen_run_id == run_id)
        .values(last_seen_run_id=func.coalesce(last_seen, Dataset.first_seen_run_id))
        .execution_options(**NO_SYNC)
    )


def restore_current_versions(session: Session, portal_id: int) -> None:
    """Datasets whose current version was removed point at their highest remaining one."""
    current_gone = ~exists().where(
        DatasetVersion.dataset_id == Dataset.id, DatasetVersion.version == Dataset.current_version
    )
    stale = select(Dataset.id).where(Dataset.portal_id == portal_id, current_gone)
    newest = (
        select(
            DatasetVersion.dataset_id,
            DatasetVersion.version,
            DatasetVersion.content_hash,
            DatasetVersion.title,
        )
        .where(DatasetVersion.dataset_id.in_(stale))
        .order_by(DatasetVersion.dataset_id, DatasetVersion.version)
    )
    restored = {
        row.dataset_id: {
            "id": row.dataset_id,
            "current_version": row.version,
            "current_hash": row.content_hash,
            "title": row.title,
        }
        for row in session.execute(newest)
    }  # the last row per dataset wins: its highest remaining version
    if restored:
        session.execute(update(Dataset), list(restored.values()))


def write_snapshot_row(
    session: Session,
    run_id: int,
    portal_id: int,
    snapshot: CatalogSnapshot,
    entry_list_id: int,
    result_set_ids: list[int],
    replay_notes: Mapping[str, Any] | None = None,
    task_runs: Mapping[str, str] | None = None,
) -> int:
    """The snapshot row (status complete or complete_with_warnings, counts, entry list, the
    Prefect task runs behind it) and its links to its result sets; returns the rows inserted."""
    status = snapshot.status
    if status not in COMPLETE_STATUSES:
        raise WarehouseError(f"snapshot status {status!r} is not one of {', '.join(COMPLETE_STATUSES)}")
    snapshot_id = session.scalar(
        insert(Snapshot).returning(Snapshot.id),
        {
            "run_id": run_id,
            "portal_id": portal_id,
            "status": status,
            "assets": snapshot.assets,
            "datasets": len(snapshot.datasets),
            "pages": snapshot.pages,
            "page_digests": jsonable(snapshot.page_digests),
            "warnings": jsonable(snapshot.warnings),
            "started_at": utc(snapshot.started_at),
            "finished_at": utc(snapshot.finished_at),
            "entry_list_id": entry_list_id,
            "harvest_replay": harvest_replay(snapshot, replay_notes),
            **({"prefect_task_runs": dict(task_runs)} if task_runs else {}),
        },
    )
    links = [{"snapshot_id": snapshot_id, "result_set_id": pk} for pk in result_set_ids]
    bulk_insert(session, SnapshotResultSet, links)
    return 1 + len(links)


def harvest_replay(
    snapshot: CatalogSnapshot, notes: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """What the next run needs to revalidate this harvest and rebuild its records (replay_reads):
    the pages' validators, the assets that are not datasets and `notes` on this evaluation (never
    those of the snapshot a replay came from); None when it cannot be replayed."""
    if not snapshot.replay:
        return None
    from wwc_pipeline.warehouse.digests import record_data
    from wwc_pipeline.warehouse.replay_reads import NOTE_KEYS

    replay = {key: value for key, value in snapshot.replay.items() if key not in NOTE_KEYS}
    replay.update(notes or {})
    assets = [
        [position, jsonable(record_data(record)), sorted(str(flag) for flag in record.flags)]
        for position, record in enumerate(snapshot.records)
        if not record.is_dataset
    ]
    return jsonable({**replay, "platform": snapshot.platform, "portal": snapshot.portal, "assets": assets})


def write_failed_snapshot(
    session: Session, run_id: int, portal_id: int, error: str, task_runs: Mapping[str, str] | None = None
) -> None:
    session.execute(
        insert(Snapshot),
        {
            "run_id": run_id,
            "portal_id": portal_id,
            "status": "failed",
            "assets": 0,
            "datasets": 0,
            "pages": 0,
            "page_digests": [],
            "warnings": [],
            "error": error,
            "finished_at": now(),
            **({"prefect_task_runs": dict(task_runs)} if task_runs else {}),
        },
    )
