"""Worker process pools of the nightly (row validation, portal writes, metrics, replays): spawned,
and gone when the process that started them goes, however it goes (kill -9 included)."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

PARENT_CHECK_S = 0.5


def _watch_parent(parent_pid: int) -> None:
    """In a worker: end this process as soon as its parent is gone (a worker of a killed nightly
    would otherwise wait on its task queue for ever, holding its memory)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            threading.Event().wait(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def may_start_processes() -> bool:
    """Whether this process may start workers: a daemonic one (a Dask worker) may not."""
    return not multiprocessing.current_process().daemon


def spawn_pool(workers: int) -> ProcessPoolExecutor:
    """`workers` spawned processes (no copy of a threaded parent) that end with this process."""
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_watch_parent, initargs=(os.getpid(),)
    )


class WorkerPool:
    """`workers` spawned processes, started at the first call (a daemonic process, a Dask worker,
    may start none: 0 then). A worker that dies fails the call that was in it with one line
    (`error(stopped)`), and the next call starts new workers."""

    def __init__(self, workers: int, stopped: str, error: type[Exception] = RuntimeError) -> None:
        self.workers = workers if may_start_processes() else 0
        self._stopped, self._error = stopped, error
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()  # task threads call at once: one executor

    def executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = spawn_pool(self.workers)
            return self._executor

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """`function(*args)` in a worker, its result here."""
        executor = self.executor()
        try:
            return executor.submit(function, *args).result()
        except BrokenProcessPool:
            with self._lock:  # only the broken one goes: another thread may have started anew
                if self._executor is executor:
                    self._executor = None
            executor.shutdown(wait=False, cancel_futures=True)
            raise self._error(self._stopped) from None

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


_warehouses: dict[str, Any] = {}  # in a worker: its warehouse, by URL


def worker_warehouse(url: str) -> Any:
    """In a worker: this process's own warehouse for `url` (made once: its engine and pool stay)."""
    from wwc_pipeline.warehouse import Warehouse

    warehouse = _warehouses.get(url)
    if warehouse is None:
        warehouse = _warehouses[url] = Warehouse(url)
    return warehouse
