"""One city, one run, as plain functions: harvest -> checks -> scores -> warehouse.

The Prefect flows call these; so do the tests, without Prefect.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from wwc_pipeline import anomalies, portal_reuse, progress, registry
from wwc_pipeline.config import CityConfig, CriteriaConfig, PortalConfig
from wwc_pipeline.evaluate import PortalEvaluation, evaluate_records
from wwc_pipeline.history.observe import Observation, observe
from wwc_pipeline.http_conditional import ValidatorLog
from wwc_pipeline.incremental import (
    evaluate_as_of_metrics,
    harvest_or_reuse,
    merged_metrics,
    portal_context,
    replay_of,
    unchanged_as_of_sets,
)
from wwc_pipeline.model import UNDECODABLE, CatalogSnapshot, DatasetRecord
from wwc_pipeline.pending_outcome import PendingOutcome
from wwc_pipeline.portal_checks import PortalChecks
from wwc_pipeline.results import CheckResult, PortalContext, Status
from wwc_pipeline.scoring import DatasetOutcome, PortalEvidence, score_city
from wwc_pipeline.wording import plural

log = logging.getLogger("wwc_pipeline")
HARVEST_CHECK = "harvest.catalog"


@dataclass
class PortalOutcome:
    evaluation: PortalEvaluation
    check_results: list[CheckResult]
    evidence: PortalEvidence
    reused: Any = None  # replay_reads.StoredResults: entry list and result sets kept from before
    replay_notes: dict[str, Any] | None = None  # what the next replay reads of this evaluation
    renames: list[tuple[int, Any]] = field(default_factory=list)  # history.observe: kept on the rows


@dataclass
class CityRunResult:
    city_id: str
    run_id: int | None
    status: str  # succeeded | partial | failed
    error: str | None = None
    failed_portals: dict[str, str] = field(default_factory=dict)
    scores: list[dict] = field(default_factory=list)
    warnings: dict[str, list[str]] = field(default_factory=dict)  # portal url -> its harvest warnings
    datasets: int = 0  # datasets harvested, all portals


def utc_now() -> datetime:
    return datetime.now(UTC)


def harvest_portal(
    portal: PortalConfig, client: Any, on_records: Callable[[list[DatasetRecord], int], None] | None = None
) -> CatalogSnapshot:
    """Page through one portal's catalog into a snapshot (raises on failure: nothing half-counted).

    The harvest runs under the portal's `harvest_deadline_s`: past it, the request in flight
    stops and the harvest fails with that reason (http.DeadlineError). `on_records(records,
    first_position)` sees each page's records as they come (metrics_ahead.py)."""
    connector = registry.get_connector(portal.platform)
    deadline = getattr(portal, "harvest_deadline_s", None)
    client = client.for_portal(portal).within(deadline, "the harvest deadline")
    recorder = ValidatorLog()
    client = client.recording(recorder) if hasattr(client, "recording") else client
    started = utc_now()
    records: list[DatasetRecord] = []
    digests: list[str] = []
    warnings: list[str] = []
    server_total: int | None = None
    for page in connector.harvest(portal, client):
        client.check_deadline()
        first_position = len(records)
        records.extend(page.records)
        if on_records is not None:
            on_records(page.records, first_position)
        digests.append(page.raw_digest)
        warnings.extend(page.warnings)
        server_total = page.total_hint if page.total_hint is not None else server_total
        progress.report(
            "page", portal=portal.url, pages=len(digests), records=len(records), total=page.total_hint
        )
    undecodable = sum(UNDECODABLE in record.flags for record in records)
    if undecodable:
        entries = "entry" if undecodable == 1 else "entries"
        warnings.append(f"{undecodable} {entries} had undecodable bytes (replaced)")
    warnings += [w for w in (anomalies.repeated_ids(records), anomalies.empty_catalog(records)) if w]
    return CatalogSnapshot(
        platform=portal.platform,
        portal=portal.url,
        records=records,
        assets=len(records),
        pages=len(digests),
        page_digests=digests,
        started_at=started,
        finished_at=utc_now(),
        warnings=warnings,
        server_total=server_total,
        replay=replay_of(portal, recorder, server_total),
    )


def harvest_result(evaluation: PortalEvaluation, snapshot: CatalogSnapshot | None = None) -> CheckResult:
    """The portal-level evidence that the catalog was harvested, and how many datasets it lists.

    It fails on an empty catalog and on a harvest that disagrees with the portal's own count
    (score: the share of the larger count the smaller one is), so MEASURE-OD-PORTAL is not met.
    """
    found = evaluation.datasets > 0
    counted = f"{plural(evaluation.assets, 'asset')}, {plural(evaluation.datasets, 'dataset')}"
    reason = f"Catalog harvested: {counted}."
    score = 100.0 if found else 0.0
    value: dict[str, Any] = {"assets": evaluation.assets, "datasets": evaluation.datasets}
    if not found:
        reason += " A portal that lists no dataset is no evidence of published data."
    mismatch = anomalies.count_mismatch(snapshot.server_total, snapshot.assets) if snapshot else None
    if mismatch and snapshot is not None and snapshot.server_total:
        value["server_total"] = snapshot.server_total
        larger = max(snapshot.server_total, snapshot.assets)
        score = min(score, round(100 * min(snapshot.server_total, snapshot.assets) / larger, 1))
        reason += f" But {mismatch}: the harvest is incomplete, or the portal's count is wrong."
    if snapshot is not None and snapshot.warnings:
        value["warnings"] = len(snapshot.warnings)
    return CheckResult(
        check_id=HARVEST_CHECK,
        status=Status.PASS if found and not mismatch else Status.FAIL,
        value={"score": score, **value},
        reason=reason,
    )


def evaluate_portal(
    records: list[DatasetRecord],
    context: PortalContext,
    portal_label: str,
    snapshot: CatalogSnapshot | None = None,
    metrics: Callable[..., PortalEvaluation] = evaluate_records,
    stored: Any = None,
) -> PortalOutcome:
    """Dataset metrics (METRICS.md) and portal checks for one portal's records (of `snapshot`, when
    harvested live: its count and warnings join the evidence). `stored` (replay_reads.StoredResults):
    the version metrics' results of the same, unchanged, entries: only the as-of metrics run."""
    # a fresh harvest keeps no portal check: those waiting on the portal start now, beside the metrics
    with PortalChecks(records, context) if stored is None else contextlib.nullcontext() as early:
        measured = _measured(records, context, snapshot, metrics, stored)
        with early or PortalChecks(records, context, measured.kept) as checks:
            portal_results = checks.results()
        return _completed(measured, portal_results, portal_label, snapshot)


def evaluate_portal_pending(
    records: list[DatasetRecord],
    context: PortalContext,
    portal_label: str,
    snapshot: CatalogSnapshot,
    metrics: Callable[..., PortalEvaluation] = evaluate_records,
) -> PendingOutcome:
    """A fresh harvest's dataset metrics now, its portal checks still waiting on the portal: the
    metrics' results can be written meanwhile (`PendingOutcome.first_results`); `finish()` gives
    what `evaluate_portal` would have."""
    checks = PortalChecks(records, context)
    try:
        measured = _measured(records, context, snapshot, metrics, None)
    except BaseException:
        checks.close()
        raise

    def finish() -> PortalOutcome:
        with checks:
            portal_results = checks.results()
        return _completed(measured, portal_results, portal_label, snapshot)

    return PendingOutcome(measured.check_results, finish, checks.close)


@dataclass
class _Measured:
    """What the dataset metrics left, before the portal checks' results join it."""

    evaluation: PortalEvaluation
    check_results: list[CheckResult]  # the datasets' results to write (not those kept)
    outcomes: list[DatasetOutcome]
    positions: list[int]
    same: dict[str, int]
    inputs: Any
    kept: dict[str, list[CheckResult]]  # portal checks' results kept from before: not run again
    stored: Any


def _measured(
    records: list[DatasetRecord],
    context: PortalContext,
    snapshot: CatalogSnapshot | None,
    metrics: Callable[..., PortalEvaluation],
    stored: Any,
) -> _Measured:
    if stored is None:
        evaluation = metrics(records, context.as_of, context.platform, context.portal)  # here or a pool
    else:
        evaluation = evaluate_as_of_metrics(records, context.as_of, context.platform, context.portal, stored)
    check_results: list[CheckResult] = []
    outcomes: list[DatasetOutcome] = []
    positions = [position for position, record in enumerate(records) if record.is_dataset]
    found_at = {
        position: dataset.answered()
        for position, dataset in zip(positions, evaluation.dataset_evaluations, strict=True)
    }
    same = unchanged_as_of_sets(stored, found_at)  # e.g. no dataset turned stale: `fresh` kept
    unbuilt = {name for dataset in evaluation.dataset_evaluations for name in dataset.answers}
    if not unbuilt <= set(same):  # a bare answer stands only for a kept result
        raise RuntimeError(f"results of {', '.join(sorted(unbuilt - set(same)))} were not built")
    replayable = snapshot is not None and bool(snapshot.replay)
    inputs = portal_reuse.portal_inputs(context, stored) if replayable else None
    sets = portal_reuse.kept_sets(snapshot, stored, inputs, same, context.as_of) if inputs else {}
    kept = portal_reuse.kept_results(stored, sets, records, context)
    if same or kept:
        reused_sets = {**same, **{check_id: sets[check_id] for check_id in kept}}
        stored = dataclasses.replace(stored, set_ids={**stored.set_ids, **reused_sets})
    for position, dataset in zip(positions, evaluation.dataset_evaluations, strict=True):
        check_results.extend(result for name, result in dataset.results.items() if name not in same)
        found = found_at[position]
        known = stored.statuses[position] if stored is not None else None
        outcomes.append(
            DatasetOutcome(
                dataset_id=dataset.record.dataset_id,
                title=dataset.record.title,
                metrics=merged_metrics(found, known),
            )
        )
    return _Measured(evaluation, check_results, outcomes, positions, same, inputs, kept, stored)


def _completed(
    measured: _Measured,
    checked: list[CheckResult],
    portal_label: str,
    snapshot: CatalogSnapshot | None,
) -> PortalOutcome:
    """The outcome once the portal checks' results (`checked`) are in."""
    evaluation, outcomes, positions = measured.evaluation, measured.outcomes, measured.positions
    stored, kept, inputs = measured.stored, measured.kept, measured.inputs
    portal_results = [harvest_result(evaluation, snapshot), *checked]
    check_results = [*measured.check_results, *(r for r in portal_results if r.check_id not in kept)]
    by_position = dict(zip(positions, outcomes, strict=True))
    for result in portal_results:  # a portal check's per-dataset results count as the dataset's metrics
        if result.dataset_id is not None and result.position in by_position:
            by_position[result.position].metrics[result.check_id] = result.as_bool
    evidence = PortalEvidence(
        portal=portal_label,
        harvested=True,
        datasets=outcomes,
        portal_results={r.check_id: r for r in portal_results if r.dataset_id is None},
        warnings=list(snapshot.warnings) if snapshot else [],
    )
    unchanged = portal_reuse.statuses_unchanged(stored, measured.same, portal_results)
    compact = stored.compact if unchanged else None
    notes = portal_reuse.replay_notes(outcomes, positions, inputs, compact) if inputs is not None else None
    return PortalOutcome(evaluation, check_results, evidence, stored, notes)


def entry_flags(snapshot: CatalogSnapshot) -> dict[int, list[str]]:
    """Position -> the marks a connector put on that entry (a record's `flags`, e.g.
    "invalid_utf8"), for the warehouse's snapshot entries."""
    flagged = {}
    for position, record in enumerate(snapshot.records):
        marks = getattr(record, "flags", None)  # DatasetRecord may carry them; None when it does not
        if marks:
            flagged[position] = [str(mark) for mark in marks]
    return flagged


def observe_portal(
    warehouse: Any,
    city_id: str,
    portal: PortalConfig,
    snapshot: CatalogSnapshot,
    as_of: datetime,
    run_id: int,
) -> Observation | None:
    """The snapshot set against the warehouse's history of the portal before this run (lineage,
    observed freshness, activity, renames): one step for `wwc scan`, backfills and the nightly.
    None when the warehouse keeps no history (the history checks then report n/a)."""
    if not hasattr(warehouse, "portal_history"):
        return None
    history = warehouse.portal_history(city_id, portal.platform, portal.url, as_of, run_id, snapshot)
    return observe(history, snapshot.records, as_of)


def scan_city(
    city: CityConfig,
    *,
    warehouse: Any,
    criteria: CriteriaConfig,
    client: Any,
    kind: str = "rescan",
    trigger: str = "cli",
    as_of: datetime | None = None,
    run_deadline_s: float | None = None,
    harvest: Callable[[PortalConfig], CatalogSnapshot] | None = None,
) -> CityRunResult:
    """Harvest, check and score every portal of a city; write it all to the warehouse.

    Each portal is its own transaction; a portal that fails is recorded with its reason and the
    others go on. The run ends `succeeded`, `partial` (some portals failed) or `failed` (all did).
    Past `run_deadline_s` (cities.yaml `run_deadline_s`), every request stops and the portals
    not done fail with that reason. `harvest` replaces the live harvest (a backfill hands over an
    archived snapshot); each portal is set against the warehouse's history of it before this
    run's as-of time.
    """
    as_of = as_of or utc_now()
    if client is not None and run_deadline_s:
        client = client.within(run_deadline_s, "the run deadline")
    live_client = client
    run_id = warehouse.start_run(city.id, city.name, kind, trigger, as_of)
    harvest = harvest or (lambda portal: harvest_or_reuse(portal, live_client, warehouse, city.id, run_id))
    result = CityRunResult(city_id=city.id, run_id=run_id, status="running")
    evidence: list[PortalEvidence] = []
    try:
        for portal in city.portals:
            progress.report("portal", city=city.id, portal=portal.url, state="harvesting")
            try:
                if client is not None:
                    client.check_deadline()
                snapshot = harvest(portal)
                observation = observe_portal(warehouse, city.id, portal, snapshot, as_of, run_id)
                context, stored = portal_context(
                    portal,
                    snapshot,
                    city_id=city.id,
                    run_id=run_id,
                    as_of=as_of,
                    departments=city.departments,
                    client=client,
                    warehouse=warehouse,
                    history=observation,
                )
                outcome = evaluate_portal(snapshot.records, context, portal.url, snapshot, stored=stored)
                warehouse.record_portal(
                    run_id,
                    city.id,
                    portal.platform,
                    portal.url,
                    snapshot,
                    outcome.check_results,
                    entry_flags=entry_flags(snapshot),
                    renames=observation.renames if observation else (),
                    reused=outcome.reused,
                    replay_notes=outcome.replay_notes,
                )
                evidence.append(outcome.evidence)
                result.datasets += len(snapshot.datasets)
                if snapshot.warnings:
                    result.warnings[portal.url] = list(snapshot.warnings)
                progress.report(
                    "portal",
                    city=city.id,
                    portal=portal.url,
                    state="done",
                    datasets=len(snapshot.datasets),
                    warnings=snapshot.warnings,
                )
            except Exception as error:  # noqa: BLE001 - one portal's failure is data, not a crash
                reason = one_line(error)
                log.warning("portal %s of %s failed: %s", portal.url, city.id, reason)
                warehouse.record_portal_failure(run_id, city.id, portal.platform, portal.url, reason)
                result.failed_portals[portal.url] = reason
                evidence.append(PortalEvidence(portal=portal.url, harvested=False, error=reason))
                progress.report("portal", city=city.id, portal=portal.url, state="failed", error=reason)
        result.scores = score_city(criteria, evidence)
        warehouse.record_scores(run_id, city.id, result.scores)
        if len(result.failed_portals) == len(city.portals):
            result.status = "failed"
            result.error = "; ".join(f"{url}: {why}" for url, why in result.failed_portals.items())
        else:
            result.status = "partial" if result.failed_portals else "succeeded"
    except BaseException as error:  # the run row must say why it ended, even on Ctrl-C
        interrupted = isinstance(error, (KeyboardInterrupt, SystemExit))
        result.status = "failed"
        result.error = "interrupted before the run finished" if interrupted else one_line(error)
        with contextlib.suppress(Exception):  # never hide the original error behind a second one
            warehouse.finish_run(run_id, result.status, result.error)
        raise
    warehouse.finish_run(run_id, result.status, result.error)
    return result


def one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:500]
