"""Evaluate a catalog's records by the core metrics of METRICS.md, in its JSON forms.

The metric checks are looked up in the registry (never imported here), run over the records
that are datasets, in catalog order, and summarised per metric; `details_line` and
`evaluation_json` give the exact `--details` and `--json` shapes the test vectors use.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wwc_pipeline import registry
from wwc_pipeline.frequency import aware, freshness
from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.results import CheckResult, Status
from wwc_pipeline.text import text

METRIC_NAMES: tuple[str, ...] = (
    "has_description",
    "has_keywords",
    "has_category",
    "has_publisher",
    "has_contact",
    "has_license",
    "open_license",
    "declares_frequency",
    "machine_readable",
    "open_format",
    "columns_documented",
    "fresh",
)
FRESHNESS_STATUSES = ("fresh", "stale", "no_cadence", "unknown")
RECENT_DAYS = 90


class MissingChecksError(RuntimeError):
    pass


@dataclass(slots=True)
class DatasetEvaluation:
    """One dataset's metric results and the freshness facts behind `fresh`."""

    record: DatasetRecord
    results: dict[str, CheckResult]
    freshness: str
    age_days: float | None
    period_days: int | None
    # metric -> answer, for metrics whose result was not built: a replay whose stored set of that
    # metric is kept because every answer is the stored one (incremental.evaluate_as_of_metrics)
    answers: dict[str, bool | None] = field(default_factory=dict)

    def answered(self) -> dict[str, bool | None]:
        """metric -> True / False / None (n/a), from its result or its bare answer."""
        return {**{name: result.as_bool for name, result in self.results.items()}, **self.answers}

    def details_line(self) -> dict[str, Any]:
        """The `--details` JSON object of this dataset."""
        line: dict[str, Any] = {"dataset_id": self.record.dataset_id, "title": text(self.record.title)}
        for name in METRIC_NAMES:
            line[name] = self.results[name].as_bool
        line.update(freshness=self.freshness, age_days=self.age_days, period_days=self.period_days)
        return line


@dataclass
class PortalEvaluation:
    platform: str
    portal: str | None
    as_of: datetime
    assets: int
    datasets: int
    metrics: dict[str, Any]
    dataset_evaluations: list[DatasetEvaluation] = field(default_factory=list)


def metric_checks() -> dict[str, Any]:
    """The registered check of every metric; loads the plugins when some are missing."""
    if any(name not in registry.DATASET_CHECKS for name in METRIC_NAMES):
        registry.load_plugins()
    missing = [name for name in METRIC_NAMES if name not in registry.DATASET_CHECKS]
    if missing:
        raise MissingChecksError(f"no check registered for metric(s): {', '.join(missing)}")
    return {name: registry.DATASET_CHECKS[name] for name in METRIC_NAMES}


def evaluate_dataset(
    record: DatasetRecord, as_of: datetime, checks: dict[str, Any] | None = None
) -> DatasetEvaluation:
    checks = checks or metric_checks()
    results = {name: check(record, as_of) for name, check in checks.items()}
    judged = freshness(record, as_of)
    return DatasetEvaluation(record, results, judged.status, judged.age_days, judged.period_days)


def at_position(evaluation: DatasetEvaluation, position: int) -> DatasetEvaluation:
    """The evaluation with its results naming the entry's position in the record list."""
    evaluation.results = {
        name: CheckResult(r.check_id, r.status, r.value, r.reason, r.dataset_id, position)
        for name, r in evaluation.results.items()
    }
    return evaluation


def share(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def median_age(ages: list[float]) -> float | None:
    """Median (mean of the two middle values for an even count), 1 decimal."""
    return round(statistics.median(ages), 1) if ages else None


def summarize(dataset_evaluations: Iterable[DatasetEvaluation]) -> dict[str, Any]:
    """The `metrics` object of `wwc evaluate --json` over some dataset evaluations.

    Works on any union (e.g. a city's several portals), as every count is per dataset.
    """
    evaluations = list(dataset_evaluations)
    metrics: dict[str, Any] = {}
    for name in METRIC_NAMES:
        counts = {status: 0 for status in Status}
        for evaluation in evaluations:
            counts[evaluation.results[name].status] += 1
        passed, failed = counts[Status.PASS], counts[Status.FAIL]
        metrics[name] = {
            "pass": passed,
            "fail": failed,
            "na": counts[Status.NA],
            "share": share(passed, passed + failed),
        }
    statuses = {status: 0 for status in FRESHNESS_STATUSES}
    for evaluation in evaluations:
        statuses[evaluation.freshness] += 1
    ages = [evaluation.age_days for evaluation in evaluations if evaluation.age_days is not None]
    metrics["freshness"] = {
        **statuses,
        "share_fresh": share(statuses["fresh"], statuses["fresh"] + statuses["stale"]),
        "median_age_days": median_age(ages),
        "updated_last_90_days": sum(1 for age in ages if age <= RECENT_DAYS),
    }
    return metrics


def evaluate_datasets(
    records: Iterable[DatasetRecord], as_of: datetime, checks: dict[str, Any], first_position: int = 0
) -> list[DatasetEvaluation]:
    """The records that are datasets, judged in order, each result naming its record's position
    (the records start at `first_position` of the catalog's record list)."""
    return [
        at_position(evaluate_dataset(record, as_of, checks), position)
        for position, record in enumerate(records, first_position)
        if record.is_dataset
    ]


def catalog_evaluation(
    evaluations: list[DatasetEvaluation], assets: int, as_of: datetime, platform: str, portal: str | None
) -> PortalEvaluation:
    """A catalog's evaluation from its datasets' (`assets`: its records, datasets or not)."""
    return PortalEvaluation(
        platform=platform,
        portal=portal,
        as_of=as_of,
        assets=assets,
        datasets=len(evaluations),
        metrics=summarize(evaluations),
        dataset_evaluations=evaluations,
    )


def evaluate_records(
    records: list[DatasetRecord], as_of: datetime, platform: str, portal: str | None
) -> PortalEvaluation:
    """Every metric over the records that are datasets (catalog order, duplicates kept); each
    result carries its record's position in `records`."""
    as_of = aware(as_of)
    evaluations = evaluate_datasets(records, as_of, metric_checks())
    return catalog_evaluation(evaluations, len(records), as_of, platform, portal)


def evaluation_json(evaluation: PortalEvaluation, criteria: dict | None = None) -> dict[str, Any]:
    """The `wwc evaluate --json` object."""
    return {
        "platform": evaluation.platform,
        "portal": evaluation.portal,
        "as_of": evaluation.as_of.isoformat(),
        "assets": evaluation.assets,
        "datasets": evaluation.datasets,
        "metrics": evaluation.metrics,
        "criteria": criteria if criteria is not None else {},
    }
