"""Content checks (TAKESTOCK-QUALITY): row-level quality of sampled datasets, schema stability.

`content.quality` reads up to `sample_rows` rows of a seeded, stratified sample of datasets
(sampling.py) and validates them with Great Expectations against expectations derived from each
dataset's declared schema and column names (expectations.py; thresholds in quality.yaml). It
imports Great Expectations (about 3 s) only when some dataset gave rows, and builds one ephemeral
context per check call. Score: 100 x the share of validated datasets in which no defect is found.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from wwc_pipeline.checks.expectations import NO_ROWS, NULLS, Planned, column_key, plan_expectations
from wwc_pipeline.checks.portal import EVIDENCE_LIMIT, portal_result, status_for_score
from wwc_pipeline.checks.quality_rules import QualityRules, load_quality_rules
from wwc_pipeline.checks.sampling import candidates, within_bytes

from wwc_pipeline.model import Column, DatasetRecord
from wwc_pipeline.registry import portal_check
from wwc_pipeline.results import CheckResult, PortalContext, Status
from wwc_pipeline.text import clean_text

__all__ = ["column_key", "content_quality", "schema_drift"]

QUALITY_CHECK = "content.quality"
DRIFT_CHECK = "content.schema_drift"
DATASET_LIST_LIMIT = 50  # sampled datasets summarised in the portal result's value


def _short(value: Any, length: int) -> str:
    """A value as text of at most `length` characters (times in ISO 8601)."""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return text if len(text) <= length else text[: length - 1] + "…"


def _count(value: Any) -> int | None:
    return None if value is None else int(value)


def _share(value: Any) -> float | None:
    return None if value is None else round(float(value), 4)


def _outcome(planned: Planned, result: Any, rules: QualityRules) -> dict:
    """One expectation's outcome as plain JSON data: observed share, a few unexpected examples."""
    found = dict(result.result or {})
    info = result.exception_info or {}
    raised = info.get("raised_exception") or any(
        isinstance(v, dict) and v.get("raised_exception") for v in info.values()
    )
    if planned.kind == NO_ROWS:
        observed = found.get("observed_value")
    elif planned.kind == NULLS:
        present = found.get("observed_value")
        observed = None if present is None else 1 - float(present)
    else:
        percent = found.get("unexpected_percent")
        observed = None if percent is None else float(percent) / 100
    examples: list[str] = []
    for example in found.get("partial_unexpected_list") or []:
        text = _short(example, rules.sample.example_length)
        if text not in examples and len(examples) < rules.sample.examples:
            examples.append(text)
    outcome = {
        "kind": planned.kind,
        "expectation": result.expectation_config.type,
        "column": planned.column,
        "success": None if raised else bool(result.success),
        "observed": _count(observed) if planned.kind == NO_ROWS else _share(observed),
        "allowed": planned.allowed,
        "unexpected": _count(found.get("unexpected_count")),
        "examples": examples,
    }
    if raised:
        message = info.get("exception_message") or next(
            (v.get("exception_message") for v in info.values() if isinstance(v, dict)), ""
        )
        outcome["error"] = _short(" ".join(str(message or "error").split()), 200)
    return outcome


def describe(outcome: dict, what: str) -> str:
    """A failed expectation in words: "Amount: 9.1% negative values (allowed 0%), e.g. '-12'"."""
    if outcome["kind"] == NO_ROWS:
        return "the sample has no rows"
    where = f"{outcome['column']}: " if outcome["column"] else ""
    text = f"{where}{100 * (outcome['observed'] or 0):.1f}% {what} (allowed {100 * outcome['allowed']:g}%)"
    if outcome["examples"] and outcome["column"]:
        text += f", e.g. {outcome['examples'][0]}"
    return text


def make_validator(rules: QualityRules, as_of: datetime) -> Callable[[list[dict], list[Column] | None], dict]:
    """One ephemeral Great Expectations context and batch definition, shared by every dataset."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.validator.v1_validator import Validator
    from wwc_pipeline.checks import ge_speedups

    ge_speedups.install()
    # GE announces every ephemeral context at INFO: noise in an operator's console.
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas(name="wwc_samples").add_dataframe_asset(name="rows")
    batch_definition = asset.add_batch_definition_whole_dataframe("whole_sample")
    result_format = {"result_format": "BASIC", "partial_unexpected_count": max(rules.sample.examples * 4, 1)}

    def validate(rows: list[dict], schema: list[Column] | None) -> dict:
        frame, plan = plan_expectations(rows, schema, rules, as_of)
        expectations = [
            getattr(gxe, planned.expectation)(**planned.kwargs, meta={"plan": index})
            for index, planned in enumerate(plan)
        ]
        suite = gx.ExpectationSuite(name="wwc_sample", expectations=expectations)
        # What `batch.validate` does, without getting the batch first: that built (and hashed)
        # the frame once more than the validation itself does.
        validator = Validator(batch_definition, result_format, batch_parameters={"dataframe": frame})
        outcomes: list[dict | None] = [None] * len(plan)
        for result in validator.validate_expectation_suite(suite).results:
            index = int((result.expectation_config.meta or {})["plan"])
            outcomes[index] = _outcome(plan[index], result, rules)
        done = [(o, p) for o, p in zip(outcomes, plan, strict=True) if o is not None]
        failed = [(o, p) for o, p in done if o["success"] is False]
        errors = [
            f"{p.expectation} on {p.column or 'the rows'}: {o['error']}" for o, p in done if o.get("error")
        ]
        evaluated = sum(1 for o, _ in done if o["success"] is not None)
        return {
            "rows": len(frame),
            "columns": len({c.split("#")[0] for c in frame.columns if not c.startswith("#")}),
            "expectations": evaluated,
            "passed": evaluated - len(failed),
            "share": round((evaluated - len(failed)) / evaluated, 4) if evaluated else None,
            "defects": sorted({o["kind"] for o, _ in failed}),
            "failed": [describe(o, p.what) for o, p in failed][:EVIDENCE_LIMIT],
            "errors": errors[:EVIDENCE_LIMIT],
            "outcomes": [o for o, _ in done],
        }

    return validate


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


@portal_check(QUALITY_CHECK)
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
    validate = None
    per_dataset: list[CheckResult] = []
    summaries: list[dict] = []
    tried = 0
    unavailable: Counter = Counter()  # why datasets gave no rows
    for record in candidates(
        records, context.platform, context.portal, config.sample_datasets, rules.sample.attempts_factor
    ):
        if len(summaries) >= config.sample_datasets:
            break
        tried += 1
        rows, why = _rows_of(context, record)
        if rows is None:
            unavailable[why] += 1
            per_dataset.append(CheckResult(QUALITY_CHECK, Status.NA, {"share": None}, why, record.dataset_id))
            continue
        schema = getattr(rows, "columns", None) or record.columns
        rows, truncated = within_bytes(list(rows), rules.sample.max_bytes)
        validate = validate or make_validator(rules, _as_of(context))
        measured = {**validate(rows, schema), "truncated": truncated}
        title = _short(clean_text(record.title or ""), 120)
        summaries.append(
            {"dataset_id": record.dataset_id, "title": title}
            | {key: measured[key] for key in ("rows", "defects")}
        )
        total = measured["expectations"]
        reason = f"{measured['passed']} of {total} expectations pass on {measured['rows']} sampled rows"
        reason += f"; {'; '.join(measured['failed'][:3])}." if measured["failed"] else "."
        status = Status.NA if total == 0 else (Status.PASS if measured["passed"] == total else Status.FAIL)
        per_dataset.append(CheckResult(QUALITY_CHECK, status, measured, reason, record.dataset_id))
    if not tried:
        return [portal_result(QUALITY_CHECK, Status.NA, empty, "No dataset to sample.")]
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
    """Score = 100 x the share of datasets seen in the last run whose column set is unchanged."""
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
        now = {column.name for column in record.columns or []}
        before = set(previous[record.dataset_id])
        added, removed = sorted(now - before), sorted(before - now)
        detail = {"added": added[:EVIDENCE_LIMIT], "removed": removed[:EVIDENCE_LIMIT]}
        if added or removed:
            changed.append(
                {"dataset_id": record.dataset_id, "title": clean_text(record.title or "")} | detail
            )
            reason = f"Columns changed: {len(added)} added, {len(removed)} removed."
            per_dataset.append(CheckResult(DRIFT_CHECK, Status.FAIL, detail, reason, record.dataset_id))
        else:
            reason = f"Same {len(now)} columns as the previous run."
            per_dataset.append(CheckResult(DRIFT_CHECK, Status.PASS, detail, reason, record.dataset_id))
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
