"""Content checks (TAKESTOCK-QUALITY): row-level quality of sampled datasets, schema stability.

`content.quality` reads up to `sample_rows` rows of a seeded, stratified sample of datasets
(sampling.py) and validates them with Great Expectations against expectations derived from each
dataset's declared schema and column names (expectations.py; thresholds in quality.yaml). Where
the rows are validated is `PortalContext.row_validator` (row_validation.py): by default in the
calling thread, importing Great Expectations (about 3 s) only when some dataset gave rows, one
ephemeral context per check call; the nightly validates in a worker process (quality_pool.py).
The next samples' rows are fetched, `per_host` at a time, while one is validated (fetch_ahead.py:
only samples that could still be used, so the requests are those of one at a time); results
are collected in sampling order.
Score: 100 x the share of validated datasets in which no defect is found.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from wwc_pipeline.checks.expectations import column_key
from wwc_pipeline.checks.portal import EVIDENCE_LIMIT, portal_result, status_for_score
from wwc_pipeline.checks.quality_rules import load_quality_rules
from wwc_pipeline.checks.row_validation import (
    InProcessValidation,
    Pending,
    ValidationLost,
    make_validator,
    shorten,
)
from wwc_pipeline.checks.sampling import candidates, within_bytes

from wwc_pipeline.fetch_ahead import fetched_ahead, width_for
from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.registry import portal_check
from wwc_pipeline.results import CheckResult, PortalContext, Status
from wwc_pipeline.text import clean_text

__all__ = ["column_key", "content_quality", "make_validator", "schema_drift"]

QUALITY_CHECK = "content.quality"
DRIFT_CHECK = "content.schema_drift"
DATASET_LIST_LIMIT = 50  # sampled datasets summarised in the portal result's value


def one_line(error: BaseException) -> str:
    first = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def _rows_of(context: PortalContext, record: DatasetRecord) -> tuple[Any, str]:
    """The connector's rows for one dataset (None when there are none), and why none."""
    config = context.portal_config
    try:
        rows = context.connector.sample_rows(config, context.client, record, config.sample_rows)
    except Exception as error:  # noqa: BLE001 - one dataset's failure is n/a, not a crash
        return None, f"Rows could not be sampled: {one_line(error)}."
    if rows is not None and not (isinstance(rows, list) and all(isinstance(r, dict) for r in rows)):
        return None, "The connector returned rows in an unexpected shape."
    return rows, "The platform gives no rows for this dataset."


def _as_of(context: PortalContext) -> datetime:
    moment = context.as_of if isinstance(context.as_of, datetime) else datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _samples_rows(context: PortalContext) -> bool:
    config = context.portal_config
    return (
        context.client is not None
        and context.connector is not None
        and bool(config and config.sample_datasets > 0)
    )


@portal_check(QUALITY_CHECK, waits_on_portal=_samples_rows)
def content_quality(records: list[DatasetRecord], context: PortalContext) -> list[CheckResult]:
    """Score = 100 x the share of validated sampled datasets whose rows show no defect."""
    config = context.portal_config
    empty = {"score": None, "sampled": 0, "validated": 0, "clean": 0, "defects": {}, "datasets": []}
    if context.client is None or context.connector is None or config is None:
        return [
            portal_result(QUALITY_CHECK, Status.NA, empty, "Rows not sampled: no live portal (offline run).")
        ]
    if config.sample_datasets <= 0:
        return [portal_result(QUALITY_CHECK, Status.NA, empty, "No dataset to sample (sample_datasets: 0).")]
    rules = load_quality_rules()
    validation = (context.row_validator or InProcessValidation)(rules, _as_of(context))
    entries: list[CheckResult | tuple[DatasetRecord, bool, Pending]] = []  # in sampling order
    tried = submitted = 0
    unavailable: Counter = Counter()  # why datasets gave no rows
    sampled = fetched_ahead(  # the next samples are fetched while this one is validated
        candidates(
            records, context.platform, context.portal, config.sample_datasets, rules.sample.attempts_factor
        ),
        lambda record: _rows_of(context, record),
        width_for(context.client),
        wanted=config.sample_datasets,
        useful=lambda answer: answer[0] is not None,
    )
    for record, (rows, why) in sampled:  # they end after the `sample_datasets`th with rows
        tried += 1
        if rows is None:
            unavailable[why] += 1
            entries.append(CheckResult(QUALITY_CHECK, Status.NA, {"share": None}, why, record.dataset_id))
            continue
        schema = getattr(rows, "columns", None) or record.columns
        rows, truncated = within_bytes(list(rows), rules.sample.max_bytes)
        # validated here (or by a worker) while the next samples are fetched
        entries.append((record, truncated, validation.submit(rows, schema)))
        submitted += 1
    if not tried:
        return [portal_result(QUALITY_CHECK, Status.NA, empty, "No dataset to sample.")]
    per_dataset: list[CheckResult] = []
    summaries: list[dict] = []
    for entry in entries:
        if isinstance(entry, CheckResult):
            per_dataset.append(entry)
            continue
        record, truncated, pending = entry
        try:
            measured = {**pending(), "truncated": truncated}
        except ValidationLost as lost:
            why = f"Rows sampled, not validated: {lost}."
            unavailable[why] += 1
            per_dataset.append(CheckResult(QUALITY_CHECK, Status.NA, {"share": None}, why, record.dataset_id))
            continue
        title = shorten(clean_text(record.title or ""), 120)
        summaries.append(
            {"dataset_id": record.dataset_id, "title": title}
            | {key: measured[key] for key in ("rows", "defects")}
        )
        total = measured["expectations"]
        reason = f"{measured['passed']} of {total} expectations pass on {measured['rows']} sampled rows"
        reason += f"; {'; '.join(measured['failed'][:3])}." if measured["failed"] else "."
        status = Status.NA if total == 0 else (Status.PASS if measured["passed"] == total else Status.FAIL)
        per_dataset.append(CheckResult(QUALITY_CHECK, status, measured, reason, record.dataset_id))
    return [_portal_summary(tried, summaries, unavailable), *per_dataset]


def _portal_summary(tried: int, summaries: list[dict], unavailable: Counter) -> CheckResult:
    """Datasets sampled and validated, and which defect kinds were found where."""
    clean = sum(1 for s in summaries if not s["defects"])
    score = round(100 * clean / len(summaries), 1) if summaries else None
    defects: dict[str, dict] = {}
    for summary in summaries:
        for kind in summary["defects"]:
            found = defects.setdefault(kind, {"datasets": 0, "examples": []})
            found["datasets"] += 1
            if len(found["examples"]) < EVIDENCE_LIMIT:
                found["examples"].append(summary["dataset_id"])
    value = {
        "score": score,
        "sampled": tried,
        "validated": len(summaries),
        "clean": clean,
        "defects": dict(sorted(defects.items())),
        "datasets": summaries[:DATASET_LIST_LIMIT],
    }
    if score is None:
        why = unavailable.most_common(1)[0][0] if unavailable else ""
        reason = f"None of the {tried} sampled datasets gave rows to validate. {why}".strip()
    else:
        reason = f"{clean} of {len(summaries)} sampled datasets show no defect in their rows"
        found = ", ".join(f"{kind} in {d['datasets']}" for kind, d in value["defects"].items())
        reason += f"; found {found}." if found else "."
    return portal_result(QUALITY_CHECK, status_for_score(score), value, reason)


@portal_check(DRIFT_CHECK)
def schema_drift(records: list[DatasetRecord], context: PortalContext) -> list[CheckResult]:
    """Score = 100 x the share of datasets seen in the last run whose column set is unchanged.

    A dataset result is written only for a dataset whose columns changed: an unchanged one's
    evidence is its column list in both snapshots, and a result per unchanged dataset would make
    the first night with a previous run rewrite one row per dataset of the nation (and a single
    change anywhere relink them all)."""
    empty = {"score": None, "compared": 0, "unchanged": 0, "changed_count": 0, "changed": []}
    current: dict[str, DatasetRecord] = {}
    for record in records:
        if record.is_dataset and record.columns is not None:
            current.setdefault(record.dataset_id, record)
    if not current:
        return [portal_result(DRIFT_CHECK, Status.NA, empty, "The platform gives no column lists.")]
    previous = context.previous_columns
    if not previous:
        return [portal_result(DRIFT_CHECK, Status.NA, empty, "No previous run to compare columns with.")]
    compared = [record for dataset_id, record in current.items() if dataset_id in previous]
    if not compared:
        reason = "No dataset with a column list now was seen in the previous run."
        return [portal_result(DRIFT_CHECK, Status.NA, empty | {"new_datasets": len(current)}, reason)]
    changed, per_dataset = [], []
    for record in compared:
        names = [column.name for column in record.columns or []]
        before_names = previous[record.dataset_id]
        if names == before_names:  # the same list (a 304 replay's every dataset)
            continue
        now, before = set(names), set(before_names)
        added, removed = sorted(now - before), sorted(before - now)
        if not (added or removed):  # reordered or repeated: the same set
            continue
        detail = {"added": added[:EVIDENCE_LIMIT], "removed": removed[:EVIDENCE_LIMIT]}
        changed.append({"dataset_id": record.dataset_id, "title": clean_text(record.title or "")} | detail)
        reason = f"Columns changed: {len(added)} added, {len(removed)} removed."
        per_dataset.append(CheckResult(DRIFT_CHECK, Status.FAIL, detail, reason, record.dataset_id))
    unchanged = len(compared) - len(changed)
    score = round(100 * unchanged / len(compared), 1)
    value = {
        "score": score,
        "compared": len(compared),
        "unchanged": unchanged,
        "changed_count": len(changed),
        "new_datasets": len(current) - len(compared),
        "changed": changed[:EVIDENCE_LIMIT],
    }
    reason = f"{unchanged} of {len(compared)} datasets seen in the previous run kept the same columns."
    return [portal_result(DRIFT_CHECK, status_for_score(score), value, reason), *per_dataset]
