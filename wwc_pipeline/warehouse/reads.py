"""Reads for reports and checks: plain dicts out, times as ISO strings (the report: report_reads.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from wwc_pipeline.warehouse import packed_reads
from wwc_pipeline.warehouse.convert import portal_key
from wwc_pipeline.warehouse.engine import WarehouseError
from wwc_pipeline.warehouse.models import (
    COMPLETE_STATUSES,
    CheckResultRow,
    CriterionScore,
    CriterionScoreCheck,
    Dataset,
    DatasetVersion,
    Portal,
    ResultSet,
    ResultSetMember,
    Run,
    Snapshot,
    SnapshotEntry,
    SnapshotResultSet,
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
    "thresholds",
)
OPTIONAL_SCORE_FIELDS = ("thresholds",)


def iso(moment: datetime | None) -> str | None:
    """ISO text in UTC; SQLite hands times back without their zone, and they were stored as UTC."""
    if moment is None:
        return None
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)).isoformat()


def listed_id(version: Any) -> Any:
    """The dataset id as the version's record lists it: a renamed dataset's row carries its newest
    id, and each run shows the id it listed."""
    return version.record["dataset_id"].as_string()


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
        "host": run.host,
        "pid": run.pid,
        "heartbeat_at": iso(run.heartbeat_at),
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
    query = select(Run).where(Run.city_id == city_id, Run.status.in_(status_in))
    run = session.scalars(query.order_by(Run.as_of.desc(), Run.id.desc()).limit(1)).first()  # as-of order
    return run_dict(run) if run else None


def score_dicts(session: Session, run_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(CriterionScore).where(CriterionScore.run_id == run_id).order_by(CriterionScore.id)
    )
    return [{field: getattr(row, field) for field in SCORE_FIELDS} for row in rows]


def check_rows(run_id: int) -> Any:
    """The run's check results, through its snapshots' result sets, with the entry each judges.

    The entry is the one of the snapshot's own entry list that holds the judged version, so
    every dataset-level result names a position of this run's catalog (null for portal ones).
    """
    entry = aliased(SnapshotEntry)
    judged = aliased(DatasetVersion)
    return (
        select(
            Snapshot.id.label("snapshot_id"),
            Portal.url,
            CheckResultRow.dataset_version_id,
            listed_id(judged).label("dataset_key"),
            entry.position,
            CheckResultRow.check_id,
            CheckResultRow.status,
            CheckResultRow.value,
            CheckResultRow.reason,
        )
        .select_from(Snapshot)
        .join(Portal, Portal.id == Snapshot.portal_id)
        .join(SnapshotResultSet, SnapshotResultSet.snapshot_id == Snapshot.id)
        .join(ResultSet, ResultSet.id == SnapshotResultSet.result_set_id)
        .join(ResultSetMember, ResultSetMember.result_set_id == ResultSet.id)
        .join(CheckResultRow, CheckResultRow.id == ResultSetMember.check_result_id)
        .outerjoin(
            entry,
            (entry.entry_list_id == Snapshot.entry_list_id)
            & (entry.dataset_version_id == CheckResultRow.dataset_version_id),
        )
        .outerjoin(judged, judged.id == entry.dataset_version_id)
        .where(Snapshot.run_id == run_id)
        .order_by(
            Snapshot.id, CheckResultRow.dataset_version_id.is_not(None), entry.position, CheckResultRow.id
        )
    )


def check_dict(row: Any) -> dict[str, Any]:
    return {
        "portal": row.url,
        "dataset_id": row.dataset_key,
        "position": row.position,
        "check_id": row.check_id,
        "status": row.status,
        "value": row.value,
        "reason": row.reason,
    }


def score_check_results(session: Session, run_id: int, criterion_id: str) -> list[dict[str, Any]]:
    """The check results a score was derived from: criterion_scores -> criterion_score_checks ->
    the run's snapshots' result sets of those checks -> check_results, each with the entry it
    judges."""
    score_id = session.scalar(
        select(CriterionScore.id).where(
            CriterionScore.run_id == run_id, CriterionScore.criterion_id == criterion_id
        )
    )
    if score_id is None:
        raise WarehouseError(f"no score for criterion {criterion_id!r} in run {run_id}")
    linked = check_rows(run_id).join(
        CriterionScoreCheck,
        (CriterionScoreCheck.check_id == ResultSet.check_id) & (CriterionScoreCheck.score_id == score_id),
    )
    return [check_dict(row) for row in session.execute(linked)]


def previous_columns(
    session: Session, city_id: str, platform: str, portal_url: str, before_run_id: int | None
) -> dict[str, list[str]]:
    """Column names per dataset in the portal's latest complete snapshot (before a run, if given).

    Datasets whose platform gave no column list are left out: there is nothing to compare. A
    repeated id gives the columns of its first listing.
    """
    query = (
        select(Snapshot.entry_list_id)
        .join(Portal)
        .join(Run, Run.id == Snapshot.run_id)
        .where(
            Portal.city_id == city_id,
            Portal.platform == platform,
            Portal.url == portal_key(portal_url),
            Snapshot.status.in_(COMPLETE_STATUSES),
        )
        .order_by(Run.as_of.desc(), Run.id.desc())  # the previous run in as-of order, not insertion
        .limit(1)
    )
    if before_run_id is not None:
        current = select(Run.as_of).where(Run.id == before_run_id).scalar_subquery()
        query = query.where(or_(Run.as_of < current, and_(Run.as_of == current, Run.id < before_run_id)))
    entry_list_id = session.scalar(query)
    if entry_list_id is None:
        return {}
    rows = packed_reads.rows(  # the columns only, taken out by the database (not every whole record)
        session.connection(),
        select(Dataset.dataset_id, DatasetVersion.record["columns"].label("columns"))
        .join(SnapshotEntry, SnapshotEntry.dataset_id == Dataset.id)
        .join(DatasetVersion, DatasetVersion.id == SnapshotEntry.dataset_version_id)
        .where(SnapshotEntry.entry_list_id == entry_list_id, Dataset.occurrence == 1),
    )
    return {
        dataset_id: [column["name"] for column in columns]
        for dataset_id, columns in rows
        if columns is not None
    }
