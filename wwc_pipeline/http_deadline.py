"""Deadlines that hold even against a server that drips a byte every few seconds.

A read timeout bounds each wait for data, not the whole answer: a server sending one byte every
5 s never trips a 60 s read timeout. So each request attempt runs under an `AttemptGuard`; when
its time is up, one watchdog thread shuts down the sockets the attempt uses, which ends any
blocked read at once, and the client reports the deadline. The connections register themselves
with the guard of the thread that uses them (`DeadlineHooks`, mixed into the connection classes).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

_current = threading.local()


class DeadlinePassed(Exception):
    """Raised inside a connection when its attempt's deadline has passed (not an OSError: not retried)."""


@dataclass(frozen=True)
class Deadline:
    """A point in `time.monotonic()` time, and how to name it in a message."""

    at: float
    what: str  # e.g. "the harvest deadline (600 s)"

    @classmethod
    def after(cls, seconds: float, what: str) -> Deadline:
        return cls(time.monotonic() + seconds, what)

    def remaining(self) -> float:
        return self.at - time.monotonic()


class _Watchdog:
    """One daemon thread that fires callbacks at their time; cancelled entries are skipped."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Any]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def schedule(self, at: float, guard: AttemptGuard) -> None:
        with self._wake:
            heapq.heappush(self._heap, (at, next(self._order), guard))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="wwc-http-deadlines", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._heap:
                    self._wake.wait()
                at, _, guard = self._heap[0]
                delay = at - time.monotonic()
                if delay > 0:
                    self._wake.wait(delay)
                    continue
                heapq.heappop(self._heap)
            guard.fire()


_watchdog = _Watchdog()


class AttemptGuard:
    """The deadline of one request attempt (redirects included) and the connections it uses."""

    def __init__(self, deadline: Deadline):
        self.deadline = deadline
        self.expired = False
        self._done = False
        self._lock = threading.Lock()
        self._connections: list[Any] = []

    def __enter__(self) -> AttemptGuard:
        self._previous = getattr(_current, "guard", None)
        _current.guard = self
        if self.deadline.remaining() <= 0:
            self.expired = True
        else:
            _watchdog.schedule(self.deadline.at, self)
        return self

    def __exit__(self, *_exc: object) -> None:
        with self._lock:
            self._done = True
            self._connections.clear()
        _current.guard = self._previous

    def attach(self, connection: Any) -> None:
        """Called by a connection about to connect or send: it is this attempt's until the next one."""
        with self._lock:
            connection._wwc_guard = self
            self._connections.append(connection)

    def check(self) -> None:
        if self.expired:
            raise DeadlinePassed(self.deadline.what)

    def fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            connections = [c for c in self._connections if getattr(c, "_wwc_guard", None) is self]
        for connection in connections:
            sock = getattr(connection, "sock", None)
            if sock is not None:
                # the plain socket's shutdown, also under TLS: it wakes a blocked read with EOF
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)


def current_guard() -> AttemptGuard | None:
    return getattr(_current, "guard", None)


class DeadlineHooks:
    """Mixed into urllib3 connection classes: register with the thread's guard, refuse when late."""

    def connect(self) -> None:
        guard = current_guard()
        if guard is not None:
            guard.attach(self)
            guard.check()
        super().connect()  # type: ignore[misc]
        if guard is not None:
            guard.check()

    def request(self, *args: Any, **kwargs: Any) -> None:
        guard = current_guard()
        if guard is not None:
            guard.attach(self)
            guard.check()
        super().request(*args, **kwargs)  # type: ignore[misc]
