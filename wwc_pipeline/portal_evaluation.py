"""One portal's evaluation: the dataset metrics, the portal checks, and the evidence they make.

`evaluate_portal` gives a harvested (or replayed) catalog's `PortalOutcome`; for a fresh harvest
whose portal checks wait on the portal, `evaluate_portal_pending` gives it in two parts (the
metrics' results first: pending_outcome.py). `pipeline.scan_city` and the flows' evaluate step
call these; tests call them without either.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wwc_pipeline import anomalies, portal_reuse
from wwc_pipeline.evaluate import PortalEvaluation, evaluate_records
from wwc_pipeline.incremental import evaluate_as_of_metrics, merged_metrics, unchanged_as_of_sets
from wwc_pipeline.model import CatalogSnapshot, DatasetRecord
from wwc_pipeline.pending_outcome import PendingOutcome
from wwc_pipeline.portal_checks import PortalChecks
from wwc_pipeline.results import CheckResult, PortalContext, Status
from wwc_pipeline.scoring import DatasetOutcome, PortalEvidence
from wwc_pipeline.wording import plural

HARVEST_CHECK = "harvest.catalog"


@dataclass
class PortalOutcome:
    evaluation: PortalEvaluation
    check_results: list[CheckResult]
    evidence: PortalEvidence
    reused: Any = None  # replay_reads.StoredResults: entry list and result sets kept from before
    replay_notes: dict[str, Any] | None = None  # what the next replay reads of this evaluation
    renames: list[tuple[int, Any]] = field(default_factory=list)  # history.observe: kept on the rows


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
    in_child: bool = False,
) -> PendingOutcome:
    """A fresh harvest's dataset metrics now, its portal checks still waiting on the portal: the
    metrics' results can be written meanwhile (`PendingOutcome.first_results`); `finish()` gives
    what `evaluate_portal` would have. `in_child`: the checks that never wait run in a forked
    child meanwhile (portal_checks.py)."""
    checks = PortalChecks(records, context, in_child=in_child)
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
