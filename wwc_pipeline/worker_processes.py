"""Worker process pools of the nightly (row validation, portal writes, metrics): spawned, and
gone when the process that started them goes, however it goes (kill -9 included)."""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
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


_warehouses: dict[str, Any] = {}  # in a worker: its warehouse, by URL


def worker_warehouse(url: str) -> Any:
    """In a worker: this process's own warehouse for `url` (made once: its engine and pool stay)."""
    from wwc_pipeline.warehouse import Warehouse

    warehouse = _warehouses.get(url)
    if warehouse is None:
        warehouse = _warehouses[url] = Warehouse(url)
    return warehouse
