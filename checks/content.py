"""Content checks (TAKESTOCK-QUALITY): row-level quality of sampled datasets, schema stability.

`content.quality` validates a few sampled rows per dataset with Great Expectations. It imports
Great Expectations (about 3 s) only when some dataset gave rows, and builds one ephemeral
context per check call. Column names are matched on their letters and digits only, because
catalogs list display names ("Case Number") while the rows carry field names ("case_number").
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wwc_pipeline.checks.portal import EVIDENCE_LIMIT, portal_result, status_for_score

from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.registry import portal_check
from wwc_pipeline.results import CheckResult, PortalContext, Status
from wwc_pipeline.text import clean_text

if TYPE_CHECKING:
    import pandas as pd

QUALITY_CHECK = "content.quality"
DRIFT_CHECK = "content.schema_drift"
NUMERIC_TYPES = frozenset(
    {
        "number",
        "numeric",
        "integer",
        "int",
        "int4",
        "int8",
        "bigint",
        "smallint",
        "long",
        "double",
        "float",
        "float8",
        "decimal",
        "real",
        "money",
        "percent",
    }
)
NUMBER = r"^\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*$"  # no capture groups: pandas warns on them


def column_key(name: str) -> str:
    """A column name reduced to lower-case letters and digits, for matching catalog and rows."""
    return re.sub(r"[\W_]+", "", str(name).lower())


def sample_choice(records: list[DatasetRecord], limit: int) -> list[DatasetRecord]:
    """The first `limit` datasets sorted by id: the same choice on every run."""
    return sorted((r for r in records if r.is_dataset), key=lambda r: r.dataset_id)[: max(limit, 0)]


def cell(value: Any) -> Any:
    """Nested values as JSON text (so rows can be compared), blank strings as missing."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, str) and not value.strip():
        return None
    return value


def prepare_frame(rows: list[dict]) -> tuple[pd.DataFrame, dict[str, str]]:
    """The sampled rows as a DataFrame whose columns are named by `column_key` (first one kept),
    and each key's name as the rows spell it."""
    import pandas as pd

    keyed: list[dict] = []
    spelled: dict[str, str] = {}
    for row in rows:
        out: dict = {}
        for name, value in row.items():
            key = column_key(name) or "_"
            spelled.setdefault(key, str(name))
            out.setdefault(key, cell(value))
        keyed.append(out)
    return pd.DataFrame.from_records(keyed), spelled


def describe(kind: str, kwargs: dict, names: dict[str, str]) -> str:
    """What a failed expectation means, in words."""
    column = names.get(kwargs.get("column", ""), kwargs.get("column"))
    return {
        "expect_table_row_count_to_be_between": "the sample has no rows",
        "expect_column_to_exist": f"catalog column {column!r} is missing from the rows",
        "expect_column_proportion_of_non_null_values_to_be_between": f"column {column!r} is entirely empty",
        "expect_compound_columns_to_be_unique": "some rows are exact duplicates",
        "expect_column_values_to_be_unique": "some rows are exact duplicates",
        "expect_column_values_to_match_regex": f"numeric column {column!r} holds non-numbers",
    }.get(kind, kind)


def make_validator() -> Callable[[list[dict], DatasetRecord], dict]:
    """One ephemeral Great Expectations context and batch definition, shared by every dataset."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GE announces every ephemeral context at INFO: noise in an operator's console.
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas(name="wwc_samples").add_dataframe_asset(name="rows")
    batch_definition = asset.add_batch_definition_whole_dataframe("whole_sample")

    def validate(rows: list[dict], record: DatasetRecord) -> dict:
        frame, names = prepare_frame(rows)
        columns = [str(c) for c in frame.columns]
        expectations: list = [gxe.ExpectTableRowCountToBeBetween(min_value=1)]
        catalog = {}
        for column in record.columns or []:
            # a platform's field name, when the model carries one, names the column in the rows
            key = column_key(getattr(column, "field_name", None) or column.name)
            if key:
                catalog.setdefault(key, column)
        if len(frame):
            for key, column in catalog.items():
                names[key] = column.name
                expectations.append(gxe.ExpectColumnToExist(column=key))
        for column in columns:
            expectations.append(
                gxe.ExpectColumnProportionOfNonNullValuesToBeBetween(
                    column=column, min_value=0, strict_min=True
                )
            )
        if len(columns) > 1:
            expectations.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=columns))
        elif columns:
            expectations.append(gxe.ExpectColumnValuesToBeUnique(column=columns[0]))
        for key, column in catalog.items():
            if key in columns and (column.datatype or "").strip().lower() in NUMERIC_TYPES:
                expectations.append(gxe.ExpectColumnValuesToMatchRegex(column=key, regex=NUMBER))
        suite = gx.ExpectationSuite(name=f"sample-{record.dataset_id}", expectations=expectations)
        outcome = batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(suite)
        passed, failed, errors = 0, [], []
        for result in outcome.results:
            config = result.expectation_config
            if (result.exception_info or {}).get("raised_exception"):
                errors.append(describe(config.type, config.kwargs, names))
            elif result.success:
                passed += 1
            else:
                failed.append(describe(config.type, config.kwargs, names))
        evaluated = passed + len(failed)
        return {
            "rows": len(frame),
            "columns": len(columns),
            "expectations": evaluated,
            "passed": passed,
            "share": round(passed / evaluated, 4) if evaluated else None,
            "failed": failed[:EVIDENCE_LIMIT],
            "errors": errors[:EVIDENCE_LIMIT],
        }

    return validate


def one_line(error: BaseException) -> str:
    first = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


@portal_check(QUALITY_CHECK)
def content_quality(records: list[DatasetRecord], context: PortalContext) -> list[CheckResult]:
    """Score = 100 x the mean share of expectations each sampled dataset's rows pass."""
    config = context.portal_config
    empty = {"score": None, "sampled": 0, "validated": 0, "datasets": []}
    if context.client is None or context.connector is None or config is None:
        return [
            portal_result(QUALITY_CHECK, Status.NA, empty, "Rows not sampled: no live portal (offline run).")
        ]
    chosen = sample_choice(records, config.sample_datasets)
    if not chosen:
        return [portal_result(QUALITY_CHECK, Status.NA, empty, "No dataset to sample (sample_datasets: 0?).")]
    validate = None
    per_dataset: list[CheckResult] = []
    summaries: list[dict] = []
    for record in chosen:
        try:
            rows = context.connector.sample_rows(config, context.client, record, config.sample_rows)
        except Exception as error:  # noqa: BLE001 - one dataset's failure is n/a, not a crash
            rows, why = None, f"Rows could not be sampled: {one_line(error)}."
        else:
            why = "The platform gives no rows for this dataset."
        if rows is not None and not (isinstance(rows, list) and all(isinstance(r, dict) for r in rows)):
            rows, why = None, "The connector returned rows in an unexpected shape."
        if rows is None:
            per_dataset.append(CheckResult(QUALITY_CHECK, Status.NA, {"share": None}, why, record.dataset_id))
            continue
        validate = validate or make_validator()
        measured = validate(rows, record)
        summaries.append(
            {"dataset_id": record.dataset_id, "title": clean_text(record.title or "")} | measured
        )
        total = measured["expectations"]
        reason = f"{measured['passed']} of {total} expectations pass on {measured['rows']} sampled rows"
        reason += f"; {'; '.join(measured['failed'][:3])}." if measured["failed"] else "."
        status = Status.NA if total == 0 else (Status.PASS if measured["passed"] == total else Status.FAIL)
        per_dataset.append(CheckResult(QUALITY_CHECK, status, measured, reason, record.dataset_id))
    shares = [s["share"] for s in summaries if s["share"] is not None]
    score = round(100 * sum(shares) / len(shares), 1) if shares else None
    value = {
        "score": score,
        "sampled": len(chosen),
        "validated": len(shares),
        "datasets": summaries[:EVIDENCE_LIMIT],
    }
    if score is None:
        reason = f"None of the {len(chosen)} sampled datasets gave rows to validate."
    else:
        clean = sum(1 for s in summaries if s["share"] == 1)
        reason = (
            f"Rows of {len(shares)} sampled datasets pass {score:.1f}% of quality expectations on average; "
            f"{clean} pass all."
        )
    return [portal_result(QUALITY_CHECK, status_for_score(score), value, reason), *per_dataset]


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
