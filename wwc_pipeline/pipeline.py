"""One city, one run, as plain functions: harvest -> checks -> scores -> warehouse.

The Prefect flows call these; so do the tests, without Prefect.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from wwc_pipeline import anomalies, progress, registry
from wwc_pipeline.config import CityConfig, CriteriaConfig, PortalConfig
from wwc_pipeline.history.observe import Observation, observe
from wwc_pipeline.http_conditional import ValidatorLog
from wwc_pipeline.incremental import (
    harvest_or_reuse,
    portal_context,
    replay_of,
)
from wwc_pipeline.model import UNDECODABLE, CatalogSnapshot, DatasetRecord
from wwc_pipeline.portal_evaluation import (
    HARVEST_CHECK,
    PortalOutcome,
    evaluate_portal,
    evaluate_portal_pending,
    harvest_result,
)
from wwc_pipeline.scoring import PortalEvidence, score_city

__all__ = [  # a portal's evaluation (portal_evaluation.py) is part of this module's face
    "HARVEST_CHECK",
    "CityRunResult",
    "PortalOutcome",
    "entry_flags",
    "evaluate_portal",
    "evaluate_portal_pending",
    "harvest_portal",
    "harvest_result",
    "observe_portal",
    "one_line",
    "scan_city",
    "utc_now",
]
log = logging.getLogger("wwc_pipeline")


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
