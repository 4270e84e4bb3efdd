"""The per-portal Prefect tasks (harvest, evaluate, write) and the city's scores task.

Each wraps one plain step of `portal_steps`. Retries only for failures that may pass
(`retry_rules`), a timeout per task, no result caching (inputs are whole catalogs: hashing them
would cost more than the work). A harvest carries the tag `host:<host:port>`: an operator with a
Prefect server can put a tag concurrency limit on it (`prefect concurrency-limit create ...`);
the HTTP client holds the same per-host limit itself in every process.

Process-wide resources (the HTTP client, the warehouse, the evaluation, row-quality and replay
pools) are made once per process on first use, so tasks running on Dask workers make their own.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import task_run
from wwc_pipeline.flows.handoff import Parked, claim, key_of, park, release, take

from wwc_pipeline import portal_steps
from wwc_pipeline.config import Concurrency, CriteriaConfig, PortalConfig
from wwc_pipeline.evaluation_pool import EvaluationPool
from wwc_pipeline.http import HttpClient
from wwc_pipeline.http_waits import retry_backoff_default
from wwc_pipeline.incremental import DeferredReplay
from wwc_pipeline.metrics_ahead import MetricsAhead
from wwc_pipeline.model import CatalogSnapshot
from wwc_pipeline.pending_outcome import PendingOutcome
from wwc_pipeline.pipeline import PortalOutcome
from wwc_pipeline.politeness import host_of
from wwc_pipeline.portal_steps import PortalDone, PortalJob
from wwc_pipeline.portal_writer import PortalWriter
from wwc_pipeline.quality_pool import QualityPool, workers_start_with_run
from wwc_pipeline.replay_pool import ReplayPool
from wwc_pipeline.reports import render_markdown
from wwc_pipeline.retry_rules import worth_retrying
from wwc_pipeline.warehouse import Warehouse

HARVEST_TIMEOUT_S = 3 * 3600  # a backstop: the client's harvest deadline ends a stuck portal first
STEP_TIMEOUT_S = 3600
_lock = threading.Lock()
_resources: dict[str, Any] = {}
_sqlite_writes = threading.Lock()


def resources(settings: Concurrency) -> tuple[HttpClient, Warehouse, EvaluationPool]:
    """This process's client, warehouse and evaluation pool (made on first use)."""
    backoff = retry_backoff_default()  # WWC_HTTP_RETRY_BACKOFF_S
    key = repr(
        (
            settings.per_host,
            settings.min_interval_s,
            settings.evaluation_workers,
            settings.writer_processes,
            settings.quality_workers,
            settings.replay_workers,
            backoff,
        )
    )
    with _lock:
        if _resources.get("key") != key:
            close_resources()
            warehouse = Warehouse()
            warehouse.migrate()
            _resources.update(
                key=key,
                client=HttpClient(
                    per_host=settings.per_host,
                    min_interval=settings.min_interval_s,
                    pool_size=max(10, settings.portals),
                    backoff=backoff,
                ),
                warehouse=warehouse,
                pool=EvaluationPool(settings.evaluation_workers),
                writer=PortalWriter(warehouse, settings.writer_processes or 0),  # None: not decided, 0
                quality=QualityPool(settings.quality_workers or 0),  # started at the first sample
                replays=ReplayPool(warehouse.url, settings.replay_workers or 0),  # at the first replay
            )
        return _resources["client"], _resources["warehouse"], _resources["pool"]


def portal_writer(settings: Concurrency) -> PortalWriter:
    """This process's portal writer (a writer process, or this process: `writer_processes`)."""
    resources(settings)
    with _lock:
        return _resources["writer"]


def quality_pool(settings: Concurrency) -> QualityPool:
    """This process's row-quality pool (`concurrency.quality_workers`), made with the resources."""
    resources(settings)
    with _lock:
        return _resources["quality"]


def quality_ahead(settings: Concurrency, portals: Sequence[PortalConfig]) -> bool:
    """This process's quality workers started now, when the run will send them samples
    (`quality_pool.workers_start_with_run`): by the CLI while Prefect's server starts, else as
    the run does. True when started."""
    return workers_start_with_run(portals, settings) and quality_pool(settings).start()


def replay_pool(settings: Concurrency) -> ReplayPool:
    """This process's replay pool (`concurrency.replay_workers`), made with the resources."""
    resources(settings)
    with _lock:
        return _resources["replays"]


def one_writer(warehouse: Warehouse) -> AbstractContextManager[Any]:
    """SQLite takes one writer at a time: this process's write steps queue here rather than on
    the database's busy timeout (a big portal's write can outlast it). PostgreSQL writes in parallel."""
    return _sqlite_writes if warehouse.engine.dialect.name == "sqlite" else nullcontext()


def close_resources() -> None:
    for name in ("client", "pool", "writer", "quality", "replays"):
        if name in _resources:
            _resources.pop(name).close()
    _resources.clear()


def host_tag(job: PortalJob) -> str:
    return f"host:{host_of(job.portal.url)}"


def _hand_over(job: PortalJob, step: str, value: Any, settings: Concurrency) -> Any:
    """In threads, the value stays in this process (`handoff`: Prefect would keep it up to a
    minute after the portal is done); on Dask it travels as it is."""
    return park(key_of(job), step, value) if settings.task_runner == "threads" else value


def _retry_when_worth_it(_task: Any, _run: Any, state: Any) -> bool:
    try:
        error = state.result(raise_on_failure=False)
    except Exception as raised:  # noqa: BLE001 - some states raise instead of returning it
        error = raised
    return isinstance(error, BaseException) and worth_retrying(error)


@task(
    name="harvest-portal",
    task_run_name="harvest {job.label}",
    cache_policy=NO_CACHE,
    retry_condition_fn=_retry_when_worth_it,
    timeout_seconds=HARVEST_TIMEOUT_S,
)
def harvest_task(job: PortalJob, settings: Concurrency) -> CatalogSnapshot | DeferredReplay | Parked:
    client, warehouse, _ = resources(settings)
    # in threads, a replay the pool takes is only revalidated here: the pool rebuilds its records
    replays = replay_pool(settings)
    deferred = settings.task_runner == "threads" and replays.takes(job.portal, client, job.as_of)
    ahead = metrics_while_harvesting(job, settings)
    snapshot = portal_steps.harvest(job, client, warehouse, rebuild=not deferred, metrics_ahead=ahead)
    if ahead is not None:
        park(key_of(job), "metrics", ahead)  # this try's: a retry's harvest parks its own
    return _hand_over(job, "snapshot", snapshot, settings)


def metrics_while_harvesting(job: PortalJob, settings: Concurrency) -> MetricsAhead | None:
    """Metrics judged while the harvest waits (`metrics_during_harvest`), where the evaluate task
    will run in this process and compute them in its thread (not an evaluation pool's workers)."""
    wanted = bool(settings.metrics_during_harvest) and settings.task_runner == "threads"
    return MetricsAhead(job.as_of) if wanted and not settings.evaluation_workers else None


@task(
    name="evaluate-portal",
    task_run_name="evaluate {job.label}",
    cache_policy=NO_CACHE,
    timeout_seconds=STEP_TIMEOUT_S,
)
def evaluate_task(
    job: PortalJob, snapshot: CatalogSnapshot | Parked, settings: Concurrency
) -> PortalOutcome | PendingOutcome | Parked:
    client, warehouse, pool = resources(settings)
    harvested = claim(snapshot)
    ahead = take(key_of(job), "metrics")  # the metrics its harvest judged while it waited, if any
    if isinstance(harvested, DeferredReplay):  # every page 304: rebuilt and evaluated by the pool
        replayed = replay_pool(settings).evaluate(job, harvested)
        if replayed is not None:  # the write reads the snapshot the pool sent back
            outcome, harvested = replayed
            park(key_of(job), "snapshot", harvested)
            return _hand_over(job, "outcome", outcome, settings)
        harvested = portal_steps.harvest(job, client, warehouse)  # not rebuilt whole: harvested anew
        park(key_of(job), "snapshot", harvested)
    quality = quality_pool(settings)
    # in threads, the write may start while the portal checks wait (a PendingOutcome): in this
    # process, for a writer process cannot wait on this one's checks
    pending = bool(settings.write_during_checks) and settings.task_runner == "threads"
    pending = pending and not settings.writer_processes
    metrics = ahead.metrics if ahead is not None else pool.metrics
    outcome = portal_steps.evaluate(
        job,
        harvested,
        client,
        warehouse,
        metrics,
        quality.validator,
        pending=pending,
        checks_in_child=bool(settings.forked_helpers),
    )
    return _hand_over(job, "outcome", outcome, settings)


@task(
    name="write-portal",
    task_run_name="write {job.label}",
    cache_policy=NO_CACHE,
    timeout_seconds=STEP_TIMEOUT_S,
)
def write_task(
    job: PortalJob,
    snapshot: CatalogSnapshot | Parked,
    outcome: PortalOutcome | PendingOutcome | Parked,
    settings: Concurrency,
    task_runs: dict[str, str],
) -> PortalDone:
    _, warehouse, _ = resources(settings)
    steps = {**task_runs, "write": str(task_run.id)}
    with one_writer(warehouse):
        return portal_steps.write(
            job,
            claim(snapshot),
            claim(outcome),
            portal_writer(settings),
            steps,
            rows_in_child=bool(settings.forked_helpers),
        )


@task(
    name="score-city", task_run_name="scores {city_id}", cache_policy=NO_CACHE, timeout_seconds=STEP_TIMEOUT_S
)
def score_city_task(
    city_id: str,
    run_id: int,
    done: list[PortalDone] | Parked,
    criteria: CriteriaConfig,
    settings: Concurrency,
) -> dict[str, Any]:
    _, warehouse, _ = resources(settings)
    try:
        result = portal_steps.city_result(city_id, run_id, claim(done), criteria)
        with one_writer(warehouse):  # only the write waits for SQLite's one writer
            portal_steps.record_city(result, warehouse)
    finally:
        if isinstance(done, Parked):
            release(done.label)
    if result.status != "failed":
        publish_scores(city_id, run_id, warehouse)
    return portal_steps.summary(result)


def artifact_key(city_id: str) -> str:
    """Prefect artifact keys allow lower-case letters, digits and dashes only."""
    return "wwc-" + re.sub(r"[^a-z0-9-]+", "-", city_id.lower()).strip("-")


def publish_scores(city_id: str, run_id: int, warehouse: Warehouse) -> None:
    """The city's scores as a Prefect markdown artifact (key `wwc-<city>`)."""
    report = warehouse.score_report(city_id, run_id)  # the table only: no datasets, no history
    create_markdown_artifact(
        key=artifact_key(city_id),
        markdown=render_markdown(report),
        description=f"WWC evidence scores for {report['city']['name']}, run {run_id}",
    )
