"""The task runner a run uses, from cities.yaml `concurrency`: threads, or Dask (local or remote).

Harvests wait on the network: threads. Evaluation is CPU work: with `task_runner: dask` every
portal task runs on Dask worker processes (a local cluster of `dask_workers` processes, or the
cluster at `dask_address`), and a portal's records stay on the worker that harvested them.
"""

from __future__ import annotations

from typing import Any

from prefect.task_runners import ThreadPoolTaskRunner

from wwc_pipeline.config import Concurrency


def task_runner(settings: Concurrency) -> Any:
    if settings.task_runner == "threads":
        # portal chains (3 tasks each) and the cities' scores: room for every portal under way
        return ThreadPoolTaskRunner(max_workers=3 * settings.portals + 4)
    from prefect_dask import DaskTaskRunner

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    quiet_worker_profiler()
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": settings.dask_workers,
            "threads_per_worker": settings.portals,
            "processes": True,
            "dashboard_address": None,
        }
    )


def with_runner(flow: Any, settings: Concurrency) -> Any:
    """`flow` running its tasks on the runner `settings` ask for."""
    return flow.with_options(task_runner=task_runner(settings))


def quiet_worker_profiler() -> None:
    """No worker profiler on the local cluster we start (its processes take this config from the
    Nanny). It samples every thread's stack with `sys._current_frames()` every 10 ms; on CPython
    3.11 a collection inside that call can wait forever on a thread that is starting at the same
    moment (seen: a local-cluster nightly hung, a worker's event loop in `_PyThread_CurrentFrames`
    -> `gc_collect_main` and a new fetch thread in `thread_run`). Its profiles only feed the
    dashboard, which this cluster does not serve. A remote cluster keeps its own settings."""
    import dask

    dask.config.set({"distributed.worker.profile.enabled": False})
