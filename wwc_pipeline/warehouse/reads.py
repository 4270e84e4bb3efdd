"""Reads for reports and checks: plain dicts out, times as ISO strings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wwc_pipeline.warehouse.convert import portal_key
from wwc_pipeline.warehouse.engine import WarehouseError
from wwc_pipeline.warehouse.models import (
    CheckResultRow,
    City,
    CriterionScore,
    Dataset,
    DatasetVersion,
    Portal,
    Run,
    Snapshot,
    SnapshotDataset,
)

SCORE_FIELDS = (
    "criterion_id",
    "component",
    "current",
    "title",
    "score",
    "status",
    "evidence",
    "counts",
    "worst_datasets",
    "portal_breakdown",
    "check_ids",
)


def iso(moment: datetime | None) -> str | None:
    """ISO text in UTC; SQLite hands times back without their zone, and they were stored as UTC."""
    if moment is None:
        return None
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)).isoformat()


def run_dict(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "city_id": run.city_id,
        "kind": run.kind,
        "trigger": run.trigger,
        "status": run.status,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "as_of": iso(run.as_of),
        "error": run.error,
    }


def runs(session: Session, city_id: str | None, limit: int) -> list[dict[str, Any]]:
    query = select(Run).order_by(Run.id.desc()).limit(limit)
    if city_id is not None:
        query = query.where(Run.city_id == city_id)
    return [run_dict(run) for run in session.scalars(query)]


def run(session: Session, run_id: int) -> dict[str, Any] | None:
    found = session.get(Run, run_id)
    return run_dict(found) if found else None


def latest_run(session: Session, city_id: str, status_in: tuple[str, ...]) -> dict[str, Any] | None:
    query = select(Run).where(Run.city_id == city_id, Run.status.in_(status_in)).order_by(Run.id.desc())
    run = session.scalars(query.limit(1)).first()
    return run_dict(run) if run else None


def score_dicts(session: Session, run_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(CriterionScore).where(CriterionScore.run_id == run_id).order_by(CriterionScore.id)
    )
    return [{field: getattr(row, field) for field in SCORE_FIELDS} for row in rows]


def _check_dict(row: Any) -> dict[str, Any]:
    return {
        "portal": row.url,
        "dataset_id": row.dataset_key,
        "check_id": row.check_id,
        "status": row.status,
        "value": row.value,
        "reason": row.reason,
    }


def _check_rows(run_id: int) -> Any:
    return (
        select(
            CheckResultRow.dataset_id,
            Dataset.dataset_id.label("dataset_key"),
            Portal.url,
            CheckResultRow.check_id,
            CheckResultRow.status,
            CheckResultRow.value,
            CheckResultRow.reason,
        )
        .join(Portal, Portal.id == CheckResultRow.portal_id)
        .outerjoin(Dataset, Dataset.id == CheckResultRow.dataset_id)
        .where(CheckResultRow.run_id == run_id)
        .order_by(CheckResultRow.id)
    )


def score_check_results(session: Session, run_id: int, criterion_id: str) -> list[dict[str, Any]]:
    """The check results a score was derived from: its run's results whose check id it names."""
    check_ids = session.scalar(
        select(CriterionScore.check_ids).where(
            CriterionScore.run_id == run_id, CriterionScore.criterion_id == criterion_id
        )
    )
    if check_ids is None:
        raise WarehouseError(f"no score for criterion {criterion_id!r} in run {run_id}")
    if not check_ids:
        return []
    rows = session.execute(_check_rows(run_id).where(CheckResultRow.check_id.in_(check_ids)))
    return [_check_dict(row) for row in rows]


def city_report(session: Session, city_id: str, run_id: int | None) -> dict[str, Any]:
    """Everything a report shows for one city's run (the latest completed one by default)."""
    city = session.get(City, city_id)
    if run_id is None:
        query = select(Run).where(Run.city_id == city_id, Run.status.in_(("succeeded", "partial")))
        run = session.scalars(query.order_by(Run.id.desc()).limit(1)).first()
        if run is None:
            raise WarehouseError(
                f"no completed run for city {city_id}; run `wwc scan --city {city_id}` first"
            )
    else:
        run = session.get(Run, run_id)
        if run is None or run.city_id != city_id:
            raise WarehouseError(
                f"run {run_id} is not a run of city {city_id}; see `wwc runs --city {city_id}`"
            )
    portals = [
        {
            "platform": portal.platform,
            "url": portal.url,
            "status": snap.status,
            "error": snap.error,
            "assets": snap.assets,
            "datasets": snap.datasets,
            "pages": snap.pages,
            "warnings": snap.warnings,
        }
        for snap, portal in session.execute(
            select(Snapshot, Portal).join(Portal).where(Snapshot.run_id == run.id).order_by(Snapshot.id)
        )
    ]
    listed = (
        select(
            SnapshotDataset.dataset_id,
            Dataset.dataset_id.label("dataset_key"),
            Portal.url,
            DatasetVersion.title,
        )
        .join(Snapshot, Snapshot.id == SnapshotDataset.snapshot_id)
        .join(Portal, Portal.id == Snapshot.portal_id)
        .join(Dataset, Dataset.id == SnapshotDataset.dataset_id)
        .join(
            DatasetVersion,
            (DatasetVersion.dataset_id == SnapshotDataset.dataset_id)
            & (DatasetVersion.version == SnapshotDataset.version),
        )
        .where(Snapshot.run_id == run.id, Snapshot.status == "complete")
        .order_by(Snapshot.id, SnapshotDataset.position)
    )
    datasets: dict[int, dict[str, Any]] = {
        row.dataset_id: {
            "portal": row.url,
            "dataset_id": row.dataset_key,
            "title": row.title,
            "checks": {},
            "reasons": {},
            "values": {},
        }
        for row in session.execute(listed)
    }
    portal_checks = []
    for row in session.execute(_check_rows(run.id)):
        if row.dataset_id is None:
            portal_checks.append(
                {key: value for key, value in _check_dict(row).items() if key != "dataset_id"}
            )
            continue
        entry = datasets[row.dataset_id]
        entry["checks"][row.check_id] = row.status
        entry["reasons"][row.check_id] = row.reason
        entry["values"][row.check_id] = row.value
    return {
        "city": {"id": city_id, "name": city.name if city else city_id},
        "run": {key: value for key, value in run_dict(run).items() if key != "city_id"},
        "portals": portals,
        "criteria": score_dicts(session, run.id),
        "datasets": list(datasets.values()),
        "portal_checks": portal_checks,
    }


def previous_columns(
    session: Session, city_id: str, platform: str, portal_url: str, before_run_id: int | None
) -> dict[str, list[str]]:
    """Column names per dataset in the portal's latest complete snapshot (before a run, if given).

    Datasets whose platform gave no column list are left out: there is nothing to compare.
    """
    query = (
        select(Snapshot.id)
        .join(Portal)
        .where(
            Portal.city_id == city_id,
            Portal.platform == platform,
            Portal.url == portal_key(portal_url),
            Snapshot.status == "complete",
        )
        .order_by(Snapshot.run_id.desc())
        .limit(1)
    )
    if before_run_id is not None:
        query = query.where(Snapshot.run_id < before_run_id)
    snapshot_id = session.scalar(query)
    if snapshot_id is None:
        return {}
    rows = session.execute(
        select(Dataset.dataset_id, DatasetVersion.record)
        .join(SnapshotDataset, SnapshotDataset.dataset_id == Dataset.id)
        .join(
            DatasetVersion,
            (DatasetVersion.dataset_id == Dataset.id) & (DatasetVersion.version == SnapshotDataset.version),
        )
        .where(SnapshotDataset.snapshot_id == snapshot_id)
    )
    return {
        dataset_id: [column["name"] for column in record["columns"]]
        for dataset_id, record in rows
        if record.get("columns") is not None
    }
