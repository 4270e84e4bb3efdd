"""Dataset metrics in worker processes: evaluation is CPU-bound, and threads share one core.

`EvaluationPool(workers).metrics` is a drop-in for `evaluate.evaluate_records`: the records go to
a worker process, the metric results come back (not the records: the caller still holds them),
and the caller gets the same `PortalEvaluation` it would have computed itself. With 0 workers it
evaluates in the calling thread. Pickling records and results costs about what evaluating them
does, so a pool pays off only when there are cores to spare (see benchmarks/README.md).
"""

from __future__ import annotations

from concurrent.futures import Executor
from datetime import datetime

from wwc_pipeline.evaluate import (
    DatasetEvaluation,
    PortalEvaluation,
    at_position,
    catalog_evaluation,
    evaluate_dataset,
    metric_checks,
)
from wwc_pipeline.frequency import aware
from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.results import CheckResult
from wwc_pipeline.worker_processes import spawn_pool

Judged = tuple[dict[str, CheckResult], str, float | None, int | None]


def judge(records: list[tuple[int, DatasetRecord]], as_of: datetime) -> list[Judged]:
    """In a worker: each (position, dataset)'s results and freshness facts, in order; the records
    are not sent back."""
    checks = metric_checks()
    judged = []
    for position, record in records:
        evaluation = at_position(evaluate_dataset(record, as_of, checks), position)
        judged.append((evaluation.results, evaluation.freshness, evaluation.age_days, evaluation.period_days))
    return judged


class EvaluationPool:
    """A pool of `workers` processes computing dataset metrics (0: in the calling thread)."""

    def __init__(self, workers: int = 0, executor: Executor | None = None) -> None:
        if workers < 0:
            raise ValueError(f"evaluation workers must be 0 or more, got {workers}")
        self.workers = workers
        self._executor = executor
        if executor is None and workers:
            self._executor = spawn_pool(workers)

    def metrics(
        self, records: list[DatasetRecord], as_of: datetime, platform: str, portal: str | None
    ) -> PortalEvaluation:
        """`evaluate_records`, with the per-dataset work done by the pool."""
        as_of = aware(as_of)
        datasets = [(position, record) for position, record in enumerate(records) if record.is_dataset]
        if self._executor is None:
            judged = judge(datasets, as_of)
        else:
            judged = self._executor.submit(judge, datasets, as_of).result()
        evaluations = [
            DatasetEvaluation(record, results, freshness, age, period)
            for (_, record), (results, freshness, age, period) in zip(datasets, judged, strict=True)
        ]
        return catalog_evaluation(evaluations, len(records), as_of, platform, portal)

    def close(self) -> None:
        if self._executor is not None and self.workers:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> EvaluationPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
