"""The writes of one portal in one run, inside the caller's transaction.

Every function here takes an open Session and never commits: `Warehouse.record_portal` wraps
them in one transaction, so an error anywhere leaves nothing of the portal behind.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from urllib.parse import urlparse

from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from wwc_pipeline.model import CatalogSnapshot, DatasetRecord
from wwc_pipeline.results import CheckResult, Status
from wwc_pipeline.warehouse.convert import jsonable, now, portal_key, utc
from wwc_pipeline.warehouse.engine import WarehouseError
from wwc_pipeline.warehouse.models import (
    CheckResultRow,
    Dataset,
    DatasetVersion,
    Portal,
    Run,
    Snapshot,
    SnapshotDataset,
)

NO_SYNC = {"synchronize_session": False}


@dataclasses.dataclass(frozen=True)
class PortalWriteStats:
    """What one portal write did: new_datasets + new_versions + unchanged = unique datasets."""

    new_datasets: int
    new_versions: int
    unchanged: int


def bulk_insert(session: Session, model: type, rows: list[dict]) -> None:
    """One executemany on the table (psycopg 3 pipelines it; SQLite loops in C)."""
    session.execute(insert(model.__table__), rows)


def require_run(session: Session, run_id: int, city_id: str) -> Run:
    run = session.get(Run, run_id)
    if run is None or run.city_id != city_id:
        raise WarehouseError(f"run {run_id} of city {city_id!r} not found; start it with start_run()")
    return run


def insert_ignoring_conflicts(session: Session, model: type, values: dict, keys: list[str]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING (SQLite and PostgreSQL spell it the same way)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(model).values(**values).on_conflict_do_nothing(index_elements=keys))


def ensure_portal(session: Session, city_id: str, platform: str, portal_url: str) -> int:
    url = portal_key(portal_url)
    values = {"city_id": city_id, "platform": platform, "url": url, "domain": urlparse(url).netloc or url}
    insert_ignoring_conflicts(session, Portal, values, ["city_id", "platform", "url"])
    query = select(Portal.id).where(Portal.city_id == city_id, Portal.platform == platform, Portal.url == url)
    return session.scalar(query)


def clear_portal_run(session: Session, run_id: int, portal_id: int) -> None:
    """Undo an earlier write of this (run, portal), so that writing it again replaces it."""
    snapshot_id = session.scalar(
        select(Snapshot.id).where(Snapshot.run_id == run_id, Snapshot.portal_id == portal_id)
    )
    if snapshot_id is None:
        return
    session.execute(
        delete(CheckResultRow).where(CheckResultRow.run_id == run_id, CheckResultRow.portal_id == portal_id)
    )
    session.execute(delete(SnapshotDataset).where(SnapshotDataset.snapshot_id == snapshot_id))
    session.execute(delete(Snapshot).where(Snapshot.id == snapshot_id))
    portal_datasets = select(Dataset.id).where(Dataset.portal_id == portal_id)
    session.execute(
        delete(DatasetVersion).where(
            DatasetVersion.first_run_id == run_id, DatasetVersion.dataset_id.in_(portal_datasets)
        )
    )
    has_version = exists().where(DatasetVersion.dataset_id == Dataset.id)
    session.execute(
        delete(Dataset).where(Dataset.portal_id == portal_id, ~has_version).execution_options(**NO_SYNC)
    )
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
    last_seen = (
        select(func.max(Snapshot.run_id))
        .join(SnapshotDataset, SnapshotDataset.snapshot_id == Snapshot.id)
        .where(SnapshotDataset.dataset_id == Dataset.id)
        .scalar_subquery()
    )
    session.execute(
        update(Dataset)
        .where(Dataset.portal_id == portal_id, Dataset.last_seen_run_id == run_id)
        .values(last_seen_run_id=func.coalesce(last_seen, Dataset.first_seen_run_id))
        .execution_options(**NO_SYNC)
    )


def unique_records(records: Iterable[DatasetRecord]) -> list[DatasetRecord]:
    """The first record of each dataset id, in catalog order (catalogs repeat ids)."""
    seen: dict[str, DatasetRecord] = {}
    for record in records:
        seen.setdefault(record.dataset_id, record)
    return list(seen.values())


def write_snapshot(
    session: Session, run_id: int, portal_id: int, snapshot: CatalogSnapshot
) -> tuple[int, dict[str, int], PortalWriteStats]:
    """Snapshot row, datasets, versions (only on a changed hash) and the snapshot's dataset list."""
    snapshot_id = session.scalar(
        insert(Snapshot).returning(Snapshot.id),
        {
            "run_id": run_id,
            "portal_id": portal_id,
            "status": "complete",
            "assets": snapshot.assets,
            "datasets": len(snapshot.datasets),
            "pages": snapshot.pages,
            "page_digests": jsonable(snapshot.page_digests),
            "warnings": jsonable(snapshot.warnings),
            "started_at": utc(snapshot.started_at),
            "finished_at": utc(snapshot.finished_at),
        },
    )
    records = unique_records(snapshot.datasets)
    known = {
        row.dataset_id: row
        for row in session.execute(
            select(Dataset.id, Dataset.dataset_id, Dataset.current_version, Dataset.current_hash).where(
                Dataset.portal_id == portal_id
            )
        )
    }
    hashes = {record.dataset_id: record.content_hash() for record in records}
    fresh = [record for record in records if record.dataset_id not in known]
    ids = {key: row.id for key, row in known.items()}
    versions = {key: row.current_version for key, row in known.items()}
    if fresh:
        rows = [
            {
                "portal_id": portal_id,
                "dataset_id": record.dataset_id,
                "title": record.title,
                "first_seen_run_id": run_id,
                "last_seen_run_id": run_id,
                "current_version": 1,
                "current_hash": hashes[record.dataset_id],
            }
            for record in fresh
        ]
        for row in session.execute(insert(Dataset).returning(Dataset.id, Dataset.dataset_id), rows):
            ids[row.dataset_id] = row.id
            versions[row.dataset_id] = 0  # bumped to 1 below
    changed = [
        record
        for record in records
        if record.dataset_id not in known
        or known[record.dataset_id].current_hash != hashes[record.dataset_id]
    ]
    for record in changed:
        versions[record.dataset_id] += 1
    if changed:
        bulk_insert(
            session,
            DatasetVersion,
            [
                {
                    "dataset_id": ids[record.dataset_id],
                    "version": versions[record.dataset_id],
                    "content_hash": hashes[record.dataset_id],
                    "title": record.title,
                    "record": jsonable(record.to_dict()),
                    "first_run_id": run_id,
                }
                for record in changed
            ],
        )
    bumped = [
        {
            "id": ids[record.dataset_id],
            "current_version": versions[record.dataset_id],
            "current_hash": hashes[record.dataset_id],
            "title": record.title,
        }
        for record in changed
        if record.dataset_id in known
    ]
    if bumped:
        session.execute(update(Dataset), bumped)
    if records:
        listed = [
            {
                "snapshot_id": snapshot_id,
                "dataset_id": ids[record.dataset_id],
                "version": versions[record.dataset_id],
                "position": position,
            }
            for position, record in enumerate(records)
        ]
        bulk_insert(session, SnapshotDataset, listed)
        in_snapshot = select(SnapshotDataset.dataset_id).where(SnapshotDataset.snapshot_id == snapshot_id)
        session.execute(
            update(Dataset)
            .where(Dataset.id.in_(in_snapshot), Dataset.last_seen_run_id < run_id)
            .values(last_seen_run_id=run_id)
            .execution_options(**NO_SYNC)
        )
    stats = PortalWriteStats(
        new_datasets=len(fresh), new_versions=len(bumped), unchanged=len(records) - len(changed)
    )
    return snapshot_id, ids, stats


def write_check_results(
    session: Session, run_id: int, portal_id: int, results: list[CheckResult], dataset_ids: dict[str, int]
) -> None:
    """Bulk insert; a dataset-level result must name a dataset of the snapshot."""
    rows = []
    for result in results:
        dataset_pk = None
        if result.dataset_id is not None:
            dataset_pk = dataset_ids.get(result.dataset_id)
            if dataset_pk is None:
                raise WarehouseError(
                    f"check {result.check_id!r} has a result for dataset {result.dataset_id!r}, "
                    "which is not a dataset of this portal's snapshot"
                )
        try:
            status = Status(result.status).value
        except ValueError:
            raise WarehouseError(
                f"check {result.check_id!r} returned status {result.status!r}; expected pass, fail or na"
            ) from None
        rows.append(
            {
                "run_id": run_id,
                "portal_id": portal_id,
                "dataset_id": dataset_pk,
                "check_id": result.check_id,
                "status": status,
                "value": jsonable(result.value),
                "reason": result.reason or "",
            }
        )
    if rows:
        bulk_insert(session, CheckResultRow, rows)


def write_failed_snapshot(session: Session, run_id: int, portal_id: int, error: str) -> None:
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
        },
    )
