"""Row-quality validation in a worker process: Great Expectations is the nightly's largest CPU cost.

`QualityPool(workers).validator` is a `PortalContext.row_validator`: `content.quality` submits
each sampled dataset's rows to the pool and fetches the next sample while a worker validates
(the rows and the result travel; the worker builds its GE context once per rules and as-of, and
keeps it). With 0 workers, or where this process may not start children (a daemonic Dask
worker), it validates in the calling thread, as `wwc evaluate` does.

A worker that dies (killed, out of memory, crashed in native code) breaks the executor: a fresh
one takes the next samples, and each lost sample is tried once more there. A sample lost twice
is n/a with a one-line reason (its rows, not chance, may be what kills workers); after
`MAX_RESTARTS` the pool stops starting workers and validates in the calling thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime

from wwc_pipeline.checks.quality_rules import QualityRules
from wwc_pipeline.checks.row_validation import (
    InProcessValidation,
    Pending,
    RowValidation,
    Validate,
    ValidationLost,
    import_great_expectations,
    import_in_background,
    make_validator,
)
from wwc_pipeline.config import Concurrency, PortalConfig
from wwc_pipeline.model import Column
from wwc_pipeline.worker_processes import may_start_processes, spawn_pool

log = logging.getLogger(__name__)
MAX_RESTARTS = 3  # broken executors replaced in one run before validating in the calling thread
CACHED_VALIDATORS = 4  # (rules, as_of) pairs a worker keeps a GE context for

_validators: dict[tuple[str, datetime], Validate] = {}  # in a worker: its contexts, reused


def validate_in_worker(
    rules_json: str, as_of: datetime, rows: list[dict], schema: list[Column] | None
) -> dict:
    """In a worker: one sample's validation, with the worker's validator for these rules."""
    key = (rules_json, as_of)
    if key not in _validators:
        if len(_validators) >= CACHED_VALIDATORS:
            _validators.pop(next(iter(_validators)))
        _validators[key] = make_validator(QualityRules.model_validate_json(rules_json), as_of)
    return _validators[key](rows, schema)


def import_ahead(portals: Sequence[PortalConfig], settings: Concurrency) -> bool:
    """Start importing Great Expectations now when this run will validate sampled rows in this
    process's task threads (`settings` as `for_run` decided them: no quality worker, the threads
    runner) and a portal samples rows: True when started. A worker or Dask process imports its own."""
    in_thread = settings.task_runner == "threads" and not settings.quality_workers
    if not in_thread or not any(portal.sample_datasets > 0 for portal in portals):
        return False
    import_in_background()
    return True


def workers_start_with_run(portals: Sequence[PortalConfig], settings: Concurrency) -> bool:
    """Whether the run's quality workers should start with it (`QualityPool.start`): it will send
    them samples (`settings` as `for_run` decided them, the threads runner, a portal that samples
    rows). Started then, each imports Great Expectations while the run harvests, not when its
    first sample waits for it."""
    if settings.task_runner != "threads" or not settings.quality_workers:
        return False
    return any(portal.sample_datasets > 0 for portal in portals)


Work = Callable[[str, datetime, list[dict], list[Column] | None], dict]


class QualityPool:
    """`workers` processes validating sampled rows for every portal of the run (0: in the thread).

    `make_executor` and `work` are for tests (a worker that dies on a given sample)."""

    def __init__(
        self,
        workers: int = 1,
        make_executor: Callable[[int], Executor] | None = None,
        work: Work = validate_in_worker,
    ) -> None:
        if workers < 0:
            raise ValueError(f"quality workers must be 0 or more, got {workers}")
        if workers and not may_start_processes():
            log.info("quality validation in the calling thread: this process may not start workers")
            workers = 0
        self.workers = workers
        self.restarts = 0
        self._make_executor = make_executor or _spawn_executor
        self._work = work
        self._lock = threading.Lock()
        self._executor: Executor | None = None  # started at the first sample: a run may have none
        self._closed = False

    def validator(self, rules: QualityRules, as_of: datetime) -> RowValidation:
        """One check call's validation (the `PortalContext.row_validator` signature)."""
        if not self.workers:
            return InProcessValidation(rules, as_of)
        return _PooledValidation(self, rules, as_of)

    def _submit(
        self, rules_json: str, as_of: datetime, rows: list[dict], schema: list[Column] | None
    ) -> tuple[Future, Executor] | None:
        """A future of the sample's result and its executor; None once the pool gave up on workers."""
        with self._lock:
            for _ in range(2):
                if self._closed or self.restarts >= MAX_RESTARTS:
                    return None
                try:
                    executor = self._running()
                    return executor.submit(self._work, rules_json, as_of, rows, schema), executor
                except BrokenProcessPool:
                    self._replace(executor)
                except (OSError, RuntimeError) as error:  # no process can start here (limits, shut down)
                    log.warning("no quality worker could start (%s): validating in the thread", error)
                    self.restarts = MAX_RESTARTS
                    self._executor = None
        return None

    def start(self) -> bool:
        """Start the workers now, each importing Great Expectations (about 3 s) before its first
        sample comes; True when started. A worker that cannot start now is tried again at the
        first sample, as without this."""
        with self._lock:
            if not self.workers or self._closed or self.restarts >= MAX_RESTARTS:
                return False
            try:
                executor = self._running()
                for _ in range(self.workers):
                    executor.submit(import_great_expectations)
            except (BrokenProcessPool, OSError, RuntimeError) as error:
                log.info("no quality worker started ahead (%s): it starts at the first sample", error)
                return False
            return True

    def _running(self) -> Executor:
        """The executor, started if it is not (lock held)."""
        if self._executor is None:
            self._executor = self._make_executor(self.workers)
        return self._executor

    def _broken(self, executor: Executor) -> None:
        with self._lock:
            self._replace(executor)

    def _replace(self, broken: Executor) -> None:
        """Drop a broken executor (lock held), once; the next submit starts a fresh one."""
        if self._executor is not broken:
            return  # another thread replaced it already
        self._executor = None
        self.restarts += 1
        log.warning("a quality worker process stopped (%d of %d times)", self.restarts, MAX_RESTARTS)
        if self.restarts >= MAX_RESTARTS:
            log.warning("quality workers stopped %d times: validating in the calling thread", self.restarts)
        broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> QualityPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _spawn_executor(workers: int) -> Executor:
    return spawn_pool(workers)


class _PooledValidation:
    """One check call's samples, validated by the pool; results collected in submission order."""

    def __init__(self, pool: QualityPool, rules: QualityRules, as_of: datetime) -> None:
        self.pool, self.rules, self.as_of = pool, rules, as_of
        self._rules_json = rules.model_dump_json()
        self._local: InProcessValidation | None = None

    def _in_thread(self, rows: list[dict], schema: list[Column] | None) -> Pending:
        self._local = self._local or InProcessValidation(self.rules, self.as_of)
        return self._local.submit(rows, schema)

    def submit(self, rows: list[dict], schema: list[Column] | None) -> Pending:
        sent = self.pool._submit(self._rules_json, self.as_of, rows, schema)
        if sent is None:
            return self._in_thread(rows, schema)

        def result() -> dict:
            future, executor = sent
            try:
                return future.result()
            except BrokenProcessPool:
                self.pool._broken(executor)
            again = self.pool._submit(self._rules_json, self.as_of, rows, schema)  # once more
            if again is None:
                return self._in_thread(rows, schema)()
            future, executor = again
            try:
                return future.result()
            except BrokenProcessPool as error:
                self.pool._broken(executor)
                raise ValidationLost("the quality worker process stopped twice on them") from error

        return result
