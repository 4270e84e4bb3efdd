"""Great Expectations validation of one dataset's sampled rows, and where it runs.

`make_validator` builds one ephemeral GE context (importing GE costs about 3 s, once per process)
and returns `validate(rows, schema)`, which runs the expectations `expectations.py` plans and
reports them as plain JSON data. `content.quality` submits each sample to a `RowValidation`:
`InProcessValidation` (the default: `wwc evaluate`, backfill, tests) validates in the calling
thread; `wwc_pipeline.quality_pool` validates in a worker process, while the check fetches the
next sample.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from wwc_pipeline.checks.expectations import NO_ROWS, NULLS, Planned, plan_expectations
from wwc_pipeline.checks.portal import EVIDENCE_LIMIT
from wwc_pipeline.checks.quality_rules import QualityRules

from wwc_pipeline.model import Column

Validate = Callable[[list[dict], list[Column] | None], dict]
Pending = Callable[[], dict]  # the validation's result (raises what validate raised, or ValidationLost)
log = logging.getLogger(__name__)


def shorten(value: Any, length: int) -> str:
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
        text = shorten(example, rules.sample.example_length)
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
        outcome["error"] = shorten(" ".join(str(message or "error").split()), 200)
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


def import_great_expectations() -> None:
    """The modules `make_validator` needs (about 3 s of imports, once per process)."""
    import great_expectations  # noqa: F401
    import great_expectations.expectations  # noqa: F401
    from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: F401
    from great_expectations.validator.v1_validator import Validator  # noqa: F401


def import_in_background() -> threading.Thread:
    """Import GE in a daemon thread, so that a command validating rows in its own thread pays the
    import while it waits (for Prefect's server, a catalog's pages) instead of at its first sample.
    Only the imports: a failure here shows again, with its reason, where `make_validator` runs."""

    def run() -> None:
        try:
            import_great_expectations()
        except Exception as error:  # noqa: BLE001 - the first sample raises it again, as evidence
            log.debug("importing Great Expectations ahead failed: %s", error)

    thread = threading.Thread(target=run, name="wwc-import-great-expectations", daemon=True)
    thread.start()
    return thread


def make_validator(rules: QualityRules, as_of: datetime) -> Validate:
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


class ValidationLost(Exception):
    """A sample was not validated for a reason outside its rows (the worker process stopped)."""


class RowValidation(Protocol):
    """Where one check call's samples are validated: `submit` now, the result when called."""

    def submit(self, rows: list[dict], schema: list[Column] | None) -> Pending: ...


RowValidator = Callable[[QualityRules, datetime], RowValidation]  # PortalContext.row_validator


class InProcessValidation:
    """Validates in the calling thread; GE is imported and its context built at the first sample."""

    def __init__(self, rules: QualityRules, as_of: datetime) -> None:
        self.rules, self.as_of = rules, as_of
        self._validate: Validate | None = None

    def submit(self, rows: list[dict], schema: list[Column] | None) -> Pending:
        self._validate = self._validate or make_validator(self.rules, self.as_of)
        measured = self._validate(rows, schema)
        return lambda: measured
