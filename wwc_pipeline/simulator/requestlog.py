"""What a portal was asked: a thread-safe log that tests read (paths, parameters, statuses)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LoggedRequest:
    """One request served: path, query parameters, parsed JSON body (or None), response status."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int

    def param(self, name: str) -> str | None:
        """A parameter's last value, from the query or the JSON body."""
        if name in self.query:
            return self.query[name][-1]
        if isinstance(self.body, dict) and name in self.body:
            return str(self.body[name])
        return None


class RequestLog:
    """Thread-safe record of the requests a portal served, in arrival order."""

    def __init__(self) -> None:
        self._items: list[LoggedRequest] = []
        self._lock = threading.Lock()

    def add(self, item: LoggedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __iter__(self) -> Iterator[LoggedRequest]:
        with self._lock:
            return iter(list(self._items))

    def __getitem__(self, index: int) -> LoggedRequest:
        with self._lock:
            return self._items[index]

    def count(self, path: str | None = None) -> int:
        """How many requests (to `path` only, when given) were served."""
        with self._lock:
            return sum(1 for item in self._items if path is None or item.path == path)

    def paths(self) -> list[str]:
        with self._lock:
            return [item.path for item in self._items]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
