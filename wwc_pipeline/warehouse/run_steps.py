"""What the per-portal flows read and write beside snapshots: Prefect run ids, a run's portals and
the evidence its stored results give, so that a failed portal can be retried alone and its city's
scores computed again from what the warehouse holds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wwc_pipeline.results import CheckResult, Status
from wwc_pipeline.scoring import DatasetOutcome, PortalEvidence
from wwc_pipeline.warehouse import reads
from wwc_pipeline.warehouse.engine import WarehouseError
from wwc_pipeline.warehouse.models import Dataset, Portal, Run, Snapshot, SnapshotEntry

STATUS_BOOL = {"pass": True, "fail": False}


def set_flow_run(session: Session, run_id: int, flow_run_id: str | None) -> None:
    session.execute(update(Run).where(Run.id == run_id).values(prefect_flow_run_id=flow_run_id))


def run_portals(session: Session, run_id: int) -> dict[str, dict[str, Any]]:
    """portal url -> its snapshot's status, error and task runs in this run."""
    rows = session.execute(
        select(Portal.url, Portal.platform, Snapshot.status, Snapshot.error, Snapshot.prefect_task_runs)
        .join(Portal, Portal.id == Snapshot.portal_id)
        .where(Snapshot.run_id == run_id)
    )
    return {
        row.url: {
            "platform": row.platform,
            "status": row.status,
            "error": row.error,
            "task_runs": row.prefect_task_runs or {},
        }
        for row in rows
    }


def run_row(session: Session, run_id: int) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise WarehouseError(f"run {run_id} not found; `wwc runs` lists the runs")
    return run


def run_evidence(session: Session, run_id: int) -> dict[str, PortalEvidence]:
    """portal url -> the evidence its snapshot in this run gives, rebuilt from the stored results
    (failed snapshots give evidence that the portal could not be harvested)."""
    evidence: dict[str, PortalEvidence] = {}
    snapshots = session.execute(
        select(Portal.url, Snapshot.status, Snapshot.error, Snapshot.warnings)
        .join(Portal, Portal.id == Snapshot.portal_id)
        .where(Snapshot.run_id == run_id)
    )
    for row in snapshots:
        harvested = row.status != "failed"
        evidence[row.url] = PortalEvidence(portal=row.url, harvested=harvested, error=row.error)
        if hasattr(evidence[row.url], "warnings"):
            evidence[row.url].warnings = list(row.warnings or [])
    titles = dict(
        ((row.url, row.position), row.title)
        for row in session.execute(
            select(Portal.url, SnapshotEntry.position, Dataset.title)
            .select_from(Snapshot)
            .join(Portal, Portal.id == Snapshot.portal_id)
            .join(SnapshotEntry, SnapshotEntry.entry_list_id == Snapshot.entry_list_id)
            .join(Dataset, Dataset.id == SnapshotEntry.dataset_id)
            .where(Snapshot.run_id == run_id)
        )
    )
    datasets: dict[tuple[str, int], DatasetOutcome] = {}
    for row in session.execute(reads.check_rows(run_id)):
        portal = evidence.get(row.url)
        if portal is None:
            continue
        if row.dataset_version_id is None:
            value = row.value
            portal.portal_results[row.check_id] = CheckResult(
                row.check_id, Status(row.status), value, row.reason
            )
            continue
        key = (row.url, row.position)
        outcome = datasets.get(key)
        if outcome is None:
            outcome = datasets[key] = DatasetOutcome(row.dataset_key, titles.get(key), {})
            portal.datasets.append(outcome)
        outcome.metrics[row.check_id] = STATUS_BOOL.get(row.status)
    return evidence
