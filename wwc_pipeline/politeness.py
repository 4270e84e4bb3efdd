"""Politeness per host: at most N requests in flight to one host, however many threads ask.

A national run sends thousands of requests at once across hundreds of hosts; each host still
sees at most `per_host` of them at a time (default 2, as ckanapi's parallel limit suggests a
polite client does; PLATFORMS.md 2.6). The host is the URL's `host:port`, as in the `Host` header.
Prefect's tag concurrency limits say the same at the level of task runs, but they need a Prefect
server object; this limit holds in any process, with or without one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

DEFAULT_PER_HOST = 2


def host_of(url: str) -> str:
    """`host:port` of a URL (lower case, no credentials); the URL itself when it has none."""
    parts = urlsplit(url)
    if not parts.hostname:
        return url.lower()
    return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname


class HostLimiter:
    """`with limiter.slot(url): send()` waits while `per_host` requests to that host are in flight."""

    def __init__(self, per_host: int = DEFAULT_PER_HOST) -> None:
        if per_host < 1:
            raise ValueError(f"requests in flight per host must be 1 or more, got {per_host}")
        self.per_host = per_host
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._in_flight: dict[str, int] = {}
        self._most: dict[str, int] = {}

    def _semaphore(self, host: str) -> threading.BoundedSemaphore:
        with self._lock:
            semaphore = self._slots.get(host)
            if semaphore is None:
                semaphore = self._slots[host] = threading.BoundedSemaphore(self.per_host)
            return semaphore

    @contextmanager
    def slot(self, url: str) -> Iterator[None]:
        host = host_of(url)
        semaphore = self._semaphore(host)
        with semaphore:
            with self._lock:
                now = self._in_flight[host] = self._in_flight.get(host, 0) + 1
                self._most[host] = max(self._most.get(host, 0), now)
            try:
                yield
            finally:
                with self._lock:
                    self._in_flight[host] -= 1

    def most_in_flight(self, url: str | None = None) -> int:
        """The most requests seen in flight at once to one host (to `url`'s host when given)."""
        with self._lock:
            if url is not None:
                return self._most.get(host_of(url), 0)
            return max(self._most.values(), default=0)
