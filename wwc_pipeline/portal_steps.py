"""One portal's share of a run as plain steps: harvest, evaluate, write (or fail); then the city.

The national flow runs each step as its own Prefect task per portal and closes a city when its
last portal is done; a retry runs the steps again for a failed portal of a finished run and
closes the city again from what the warehouse holds. Every step takes and returns plain data
and is testable without Prefect. What travels back to the flow is small (`PortalDone`): the
records and check results stay with the steps that need them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wwc_pipeline import pipeline, progress
from wwc_pipeline.config import CityConfig, CriteriaConfig, PortalConfig
from wwc_pipeline.evaluate import evaluate_records
from wwc_pipeline.incremental import DeferredReplay, harvest_or_reuse, portal_context
from wwc_pipeline.metrics_ahead import MetricsAhead
from wwc_pipeline.model import CatalogSnapshot
from wwc_pipeline.pending_outcome import PendingOutcome
from wwc_pipeline.pipeline import CityRunResult, PortalOutcome, one_line
from wwc_pipeline.portal_checks import any_waits
from wwc_pipeline.scoring import PortalEvidence, score_city

log = logging.getLogger("wwc_pipeline")


@dataclass(frozen=True)
class PortalJob:
    """One portal of one city's run: everything its steps need, and nothing big."""

    city_id: str
    city_name: str
    run_id: int
    portal: PortalConfig
    as_of: datetime
    departments: tuple[str, ...] | None = None

    @property
    def label(self) -> str:
        return f"{self.city_id} {self.portal.url}"


@dataclass
class PortalDone:
    """What a portal's steps leave for its city: the evidence for scores, and a summary."""

    url: str
    evidence: PortalEvidence
    datasets: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    task_runs: dict[str, str] = field(default_factory=dict)  # step -> Prefect task-run id

    @property
    def failed(self) -> bool:
        return self.error is not None


def portal_jobs(city: CityConfig, run_id: int, as_of: datetime) -> list[PortalJob]:
    departments = tuple(city.departments) if city.departments else None
    return [PortalJob(city.id, city.name, run_id, portal, as_of, departments) for portal in city.portals]


def harvest(
    job: PortalJob,
    client: Any,
    warehouse: Any = None,
    rebuild: bool = True,
    metrics_ahead: MetricsAhead | None = None,
) -> CatalogSnapshot | DeferredReplay:
    """Page through the portal's catalog (raises on failure: the task's retry rules decide); with
    the warehouse, a catalog whose every page answers 304 is the previous snapshot's again
    (without `rebuild`, a `DeferredReplay`: its records are rebuilt where it is evaluated).
    `metrics_ahead` judges the pages of a full harvest as they come (its `metrics` then gives
    them to `evaluate`)."""
    progress.report("portal", city=job.city_id, portal=job.portal.url, state="harvesting")
    on_records = metrics_ahead.add if metrics_ahead is not None else None
    return harvest_or_reuse(job.portal, client, warehouse, job.city_id, job.run_id, rebuild, on_records)


def evaluate(
    job: PortalJob,
    snapshot: CatalogSnapshot,
    client: Any,
    warehouse: Any,
    metrics: Callable[..., Any] = evaluate_records,
    row_validator: Any = None,
    pending: bool = False,
    checks_in_child: bool = False,
) -> PortalOutcome | PendingOutcome:
    """Dataset metrics (`metrics`: in this process, or a pool's) and the portal checks
    (`row_validator`: where content.quality validates its samples; None: in this thread), with the
    portal set against its history (observed freshness, activity, renames) as `wwc scan` does.
    With `pending`, a fresh harvest whose portal checks wait on the portal comes back as soon as
    its metrics are done (`PendingOutcome`): its write starts while the checks wait, and with
    `checks_in_child` its checks that never wait run meanwhile in a forked child."""
    portal = job.portal
    observation = pipeline.observe_portal(warehouse, job.city_id, portal, snapshot, job.as_of, job.run_id)
    context, stored = portal_context(  # every page 304: what did not change is kept
        portal,
        snapshot,
        city_id=job.city_id,
        run_id=job.run_id,
        as_of=job.as_of,
        departments=list(job.departments) if job.departments else None,
        client=client,
        warehouse=warehouse,
        history=observation,
        row_validator=row_validator,
    )
    if pending and stored is None and any_waits(context):
        records = snapshot.records
        outcome: Any = pipeline.evaluate_portal_pending(
            records, context, portal.url, snapshot, metrics, in_child=checks_in_child
        )
    else:
        outcome = pipeline.evaluate_portal(snapshot.records, context, portal.url, snapshot, metrics, stored)
    outcome.renames = observation.renames if observation else []
    return outcome


def write(
    job: PortalJob,
    snapshot: CatalogSnapshot,
    outcome: PortalOutcome | PendingOutcome,
    warehouse: Any,
    task_runs: dict[str, str] | None = None,
    rows_in_child: bool = False,
) -> PortalDone:
    """The snapshot, its check results and the Prefect task runs behind it (`task_runs`: step ->
    task-run id), in one transaction (replacing a failed try of this run). A `PendingOutcome`'s
    dataset results are written while its portal checks finish, theirs after, in the same one.
    `rows_in_child`: a forked child makes the results' rows ahead of the inserts."""
    portal = job.portal
    pending = outcome if isinstance(outcome, PendingOutcome) else None
    try:
        warehouse.record_portal(
            job.run_id,
            job.city_id,
            portal.platform,
            portal.url,
            snapshot,
            pending.first_results if pending else outcome.check_results,
            entry_flags=pipeline.entry_flags(snapshot),
            renames=outcome.renames,
            reused=None if pending else outcome.reused,
            replay_notes=None if pending else outcome.replay_notes,
            later_results=pending.later_results if pending else None,
            task_runs=task_runs,
            rows_in_child=rows_in_child,
        )
    finally:
        if pending:
            pending.close()
    outcome = pending.finish() if pending else outcome
    datasets = len(snapshot.datasets)
    progress.report("portal", city=job.city_id, portal=portal.url, state="done", datasets=datasets)
    return PortalDone(
        portal.url, outcome.evidence, datasets, list(snapshot.warnings), task_runs=dict(task_runs or {})
    )


def fail(
    job: PortalJob, error: BaseException | str, warehouse: Any, task_runs: dict[str, str] | None = None
) -> PortalDone:
    """Record the portal as failed in this run, with its one-line reason (and the Prefect task
    runs behind it, on the same snapshot row)."""
    reason = error if isinstance(error, str) else one_line(error)
    portal = job.portal
    log.warning("portal %s of %s failed: %s", portal.url, job.city_id, reason)
    warehouse.record_portal_failure(job.run_id, job.city_id, portal.platform, portal.url, reason, task_runs)
    progress.report("portal", city=job.city_id, portal=portal.url, state="failed", error=reason)
    return PortalDone(
        portal.url,
        PortalEvidence(portal=portal.url, harvested=False, error=reason),
        error=reason,
        task_runs=dict(task_runs or {}),
    )


def close_city(
    city_id: str,
    run_id: int,
    done: Sequence[PortalDone],
    criteria: CriteriaConfig,
    warehouse: Any,
) -> CityRunResult:
    """Scores from every portal's evidence; the run ends succeeded, partial or failed."""
    return record_city(city_result(city_id, run_id, done, criteria), warehouse)


def record_city(result: CityRunResult, warehouse: Any) -> CityRunResult:
    """The city's scores and the end of its run, in one write."""
    warehouse.close_run(result.run_id, result.city_id, result.scores, result.status, result.error)
    return result


def city_result(
    city_id: str, run_id: int, done: Sequence[PortalDone], criteria: CriteriaConfig
) -> CityRunResult:
    """The city's scores from every portal's evidence and the status its run ends with (nothing
    written: the scoring needs no warehouse, so it runs outside SQLite's one writer)."""
    result = CityRunResult(city_id=city_id, run_id=run_id, status="running")
    for portal in done:
        if portal.failed:
            result.failed_portals[portal.url] = portal.error or "failed"
        else:
            result.datasets += portal.datasets
            if portal.warnings:
                result.warnings[portal.url] = list(portal.warnings)
    result.scores = score_city(criteria, [portal.evidence for portal in done])
    if done and len(result.failed_portals) == len(done):
        result.status = "failed"
        result.error = "; ".join(f"{url}: {why}" for url, why in result.failed_portals.items())
    else:
        result.status = "partial" if result.failed_portals else "succeeded"
    return result


def summary(result: CityRunResult) -> dict[str, Any]:
    """The plain summary a flow returns for a city (what the CLI prints)."""
    return {
        "city_id": result.city_id,
        "run_id": result.run_id,
        "status": result.status,
        "error": result.error,
        "failed_portals": result.failed_portals,
        "warnings": result.warnings,
        "datasets": result.datasets,
        "scores": {row["criterion_id"]: (row["score"], row["status"]) for row in result.scores},
    }
