"""Portal checks kept from the snapshot that a 304 replay came from, when their inputs are the same.

A replay has the same records as its source snapshot. A portal check that reads nothing else
but configuration (and, for some, the previous snapshot's columns or each entry's `fresh`
answer) then says exactly what it said before, so its result set is linked again: no check
run, no digest, no row. The inputs that can change without the catalog changing are kept with
each snapshot (`harvest_replay["portal_inputs"]`) and compared. `observed_fresh` reads the run's
history, but only each dataset's observed judgment: a digest of those is kept too, and while it
stays the same its set is kept, with each dataset's answer made without its result (the
evidence reads only that). Checks that read the as-of time (inventory age, activity windows),
the run's history otherwise or the live portal (row samples, link probes) are never kept: they
run on every replay.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from wwc_pipeline import __version__, registry
from wwc_pipeline.results import CheckResult, PortalContext, Status

log = logging.getLogger("wwc_pipeline")

INPUTS_KEY = "portal_inputs"
FRESH = "fresh"
PREVIOUS_COLUMNS = "previous_columns"
OBSERVED = "observed"  # the datasets' observed judgments (checks/history.py observed_inputs)
# check id -> what it reads besides the records and configuration
REUSABLE_CHECKS: dict[str, frozenset[str]] = {
    "portal.policy_document": frozenset(),
    "key_datasets.disaggregated": frozenset(),
    "key_datasets.types": frozenset({FRESH}),  # each match's answers; `fresh` is as of the run
    "content.schema_drift": frozenset({PREVIOUS_COLUMNS}),
    "observed_fresh": frozenset({OBSERVED}),
}


def _answerers() -> dict[str, Any]:
    """check id -> its per-dataset answers without results, for the kept checks that judge datasets
    (their answers count as the datasets' metrics; a portal-level kept result is read back)."""
    from wwc_pipeline.checks.history import observed_answers

    return {"observed_fresh": observed_answers}


def answers_only() -> tuple[str, ...]:
    """The kept checks whose stored results are never read back: their answers are made anew."""
    return tuple(_answerers())


_DUMPED: list[tuple[Any, str]] = []  # the key datasets rules last dumped, and their JSON


def _dumped(rules: Any) -> str:
    """The rules' JSON, dumped once per loaded rules object (the same for every portal of a run)."""
    held = _DUMPED[0] if _DUMPED else None  # one read: task threads call this at once
    if held is None or held[0] is not rules:
        held = (rules, rules.model_dump_json())
        _DUMPED[:] = [held]
    return held[1]


def config_digest(context: PortalContext) -> str | None:
    """What the kept checks read besides the records: the portal's settings, the city's
    departments, config/key_datasets.yaml, the registered portal checks and this code's version.
    None when it cannot be said (nothing is kept then)."""
    from wwc_pipeline.keydata.rules import cached_key_datasets

    try:
        key_datasets = _dumped(cached_key_datasets())
    except Exception:  # noqa: BLE001 - a broken file: its checks report n/a, nothing is kept
        return None
    portal = context.portal_config.model_dump_json() if context.portal_config is not None else None
    text = json.dumps(
        [__version__, portal, context.departments, key_datasets, sorted(registry.PORTAL_CHECKS)],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def portal_inputs(context: PortalContext, stored: Any) -> dict[str, Any]:
    """The inputs of this run's portal checks, kept with the snapshot. The previous columns of a
    replay are its own records' (the source's entry list); of a harvest, not named (None)."""
    from wwc_pipeline.checks.history import observed_inputs

    previous = stored.entry_list_id if stored is not None else None
    observed = observed_inputs(context.history)
    return {"config": config_digest(context), "previous_entry_list": previous, OBSERVED: observed}


def assets_fresh_fixed(records: list[Any], as_of: Any) -> bool:
    """Whether no asset that is not a dataset has a `fresh` answer that moves with the as-of time
    (key types match some such assets; only dataset entries' `fresh` statuses are kept). Unknown
    and no-cadence answers do not depend on it; fresh and stale do."""
    from wwc_pipeline.frequency import freshness

    return all(
        freshness(record, as_of).status in ("unknown", "no_cadence")
        for record in records
        if not record.is_dataset
    )


def kept_sets(
    snapshot: Any, stored: Any, inputs: dict[str, Any], same_as_of: dict[str, int], as_of: Any = None
) -> dict[str, int]:
    """check id -> the source snapshot's result set, for the checks whose inputs are the same."""
    if stored is None or snapshot is None or snapshot.reused_from is None or inputs.get("config") is None:
        return {}
    before = (snapshot.replay or {}).get(INPUTS_KEY)  # a replay's `replay` is its source's
    if not isinstance(before, dict) or before.get("config") != inputs["config"]:
        return {}
    same_columns = before.get("previous_entry_list") == inputs["previous_entry_list"]
    same_fresh = FRESH in same_as_of and as_of is not None and assets_fresh_fixed(snapshot.records, as_of)
    kept = {}
    for check_id, reads in REUSABLE_CHECKS.items():
        set_id = stored.other_sets.get(check_id)
        if set_id is None or (FRESH in reads and not same_fresh):
            continue
        if PREVIOUS_COLUMNS in reads and not same_columns:
            continue
        if OBSERVED in reads and (inputs.get(OBSERVED) is None or before.get(OBSERVED) != inputs[OBSERVED]):
            continue
        kept[check_id] = set_id
    return kept


def replay_notes(
    outcomes: list[Any], positions: list[int], inputs: dict[str, Any], same_statuses: Any = None
) -> dict[str, Any]:
    """What the next replay reads of this evaluation (harvest_replay): every entry's metric
    statuses and the portal checks' inputs. `same_statuses`: the stored compact form every status
    came out equal to (`statuses_unchanged`), kept again as it was read, not made anew."""
    from wwc_pipeline.incremental import kept_statuses
    from wwc_pipeline.warehouse.replay_reads import STATUSES_KEY

    statuses = same_statuses if same_statuses is not None else kept_statuses(outcomes, positions)
    return {STATUSES_KEY: statuses, INPUTS_KEY: inputs}


def statuses_unchanged(stored: Any, same: dict[str, int], portal_results: list[CheckResult]) -> bool:
    """Whether every entry's metric statuses are the stored compact form's: the version metrics'
    come from it, every as-of metric's set was found the same (`same`), and no portal check's
    per-dataset result stands in for a metric."""
    from wwc_pipeline.evaluate import METRIC_NAMES
    from wwc_pipeline.incremental import AS_OF_METRICS

    compact = getattr(stored, "compact", None)
    if compact is None or compact.get("checks") != list(METRIC_NAMES) or not set(same) >= AS_OF_METRICS:
        return False
    return not any(r.check_id in METRIC_NAMES for r in portal_results if r.dataset_id is not None)


def kept_results(
    stored: Any, sets: dict[str, int], records: list[Any] | None = None, context: PortalContext | None = None
) -> dict[str, list[CheckResult]]:
    """check id -> its portal-level results read back (the evidence scores need), or for a check
    that judges datasets its answers made anew from `records` and `context` (`_answerers`);
    other checks whose sets hold no portal-level result are dropped (they run again)."""
    if not sets:
        return {}
    found: dict[str, list[CheckResult]] = {}
    for check_id, status, value, reason in stored.other_results:
        found.setdefault(check_id, []).append(CheckResult(check_id, Status(status), value, reason))
    answerers = _answerers() if records is not None and context is not None else {}
    for check_id in sets:
        if check_id in answerers:
            found[check_id] = answerers[check_id](records, context)
    return {check_id: found[check_id] for check_id in sets if check_id in found}
