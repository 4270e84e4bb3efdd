"""Group commit: writes that queue behind one writer share the transaction of whoever gets it.

On SQLite a nightly's city closes wait for the one writer, one city at a time; whoever gets the
writer now takes every close queued meanwhile and writes them in one transaction (`write_many`).
Each caller returns once its own item is committed, or raises its own error: when a batch fails,
its items are written again one by one, so that one bad item fails alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")


class GroupCommit(Generic[Item]):
    """`GroupCommit(warehouse.close_runs).write(close, writer)`: `writer` is the lock (a context
    manager) the writes queue behind; with none to queue behind, a batch is mostly one item."""

    def __init__(self, write_many: Callable[[list[Item]], None]) -> None:
        self._write_many = write_many
        self._pending: list[tuple[Item, Future]] = []
        self._lock = threading.Lock()

    def write(self, item: Item, writer: AbstractContextManager[Any]) -> None:
        done: Future = Future()
        with self._lock:
            self._pending.append((item, done))
        with writer:
            with self._lock:
                batch, self._pending = self._pending, []
            if batch:  # empty: an earlier holder of the writer took this item with its own
                self._commit(batch)
        done.result()

    def _commit(self, batch: list[tuple[Item, Future]]) -> None:
        try:
            try:
                self._write_many([item for item, _ in batch])
            except Exception:
                if len(batch) == 1:
                    raise
                for item, done in batch:
                    try:
                        self._write_many([item])
                    except Exception as error:  # noqa: BLE001 - its caller raises it
                        done.set_exception(error)
                    else:
                        done.set_result(None)
                return
            for _, done in batch:
                done.set_result(None)
        except BaseException as error:  # every caller of the batch hears of it, none waits forever
            for _, done in batch:
                if not done.done():
                    done.set_exception(error)
            if not isinstance(error, Exception):
                raise
