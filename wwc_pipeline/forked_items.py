"""Work done ahead in a forked child, on the other core, and handed back item by item.

A one-portal scan is bound by one core: most of a 10,000-dataset portal's write is Python
turning 130,000 check results into rows, then SQLite inserting them (benchmarks/README.md,
stop 42). A child made by fork() already holds every object the parent holds (copy-on-write:
nothing is pickled on the way in), so it can build the rows of the next check while the parent
inserts this one. Only the rows come back, pickled through a pipe.

It only ever saves time. When the child cannot give the next item (no fork here, it died, it
sent something unreadable, or it took longer than `wait_s`), `next()` answers None from then on
and the caller makes the item itself, exactly as it would have without the child.

The parent has other threads (Prefect's, the HTTP fetches'); fork() copies only the calling one.
So the child runs nothing but `produce` and the pipe: no logging, no printing, no database, no
lock another thread might have held, garbage collection off (a collection would touch, and so
copy, the whole inherited heap), and it leaves with os._exit (no finalizers, no atexit, no
flush of the parent's buffers). A child stuck anyway costs `wait_s` once, then is killed.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import select
import signal
import struct
import sys
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any

WAIT_S = 10.0  # the longest wait for one item; a child stuck past it is given up on
_LENGTH = struct.Struct("<Q")

# Python 3.12+ warns at every fork() of a process with threads; the child above is built for that
warnings.filterwarnings(
    "ignore", message=r".*use of fork\(\) may lead to deadlocks", category=DeprecationWarning
)


def can_fork() -> bool:
    """fork() is there and safe to use for this: Linux (macOS frameworks are not fork-safe)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


class ForkedItems:
    """`produce()`'s items, made in a forked child; `next()` gives them in order, or None once
    the child cannot (the caller then makes the item itself). Use as a context manager, or
    call `close()`: a child still running is killed, and always reaped."""

    def __init__(self, produce: Callable[[], Iterable[Any]], wait_s: float = WAIT_S) -> None:
        self.wait_s = wait_s
        self.pid: int | None = None
        self._read_fd: int | None = None
        if not can_fork():
            return
        read_fd, write_fd = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            return
        if pid == 0:  # the child: never returns
            _child(produce, read_fd, write_fd)
        os.close(write_fd)
        self.pid, self._read_fd = pid, read_fd

    def next(self) -> Any | None:
        """The child's next item, or None: the child has no more to give (the caller makes it)."""
        if self._read_fd is None:
            return None
        deadline = time.monotonic() + self.wait_s
        header = self._read(_LENGTH.size, deadline)
        payload = None if header is None else self._read(_LENGTH.unpack(header)[0], deadline)
        if payload is None:
            self.close()
            return None
        try:
            return pickle.loads(payload)
        except Exception:  # noqa: BLE001 - a garbled answer is one the caller makes itself
            self.close()
            return None

    def _read(self, size: int, deadline: float) -> bytes | None:
        """Exactly `size` bytes from the child, or None (it ended, or `deadline` passed)."""
        parts, missing = [], size
        while missing:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._read_fd], [], [], remaining)[0]:
                return None
            part = os.read(self._read_fd, min(missing, 1 << 20))
            if not part:
                return None
            parts.append(part)
            missing -= len(part)
        return b"".join(parts)

    def close(self) -> None:
        """Stop reading; kill the child if it still runs, and reap it."""
        if self._read_fd is not None:
            os.close(self._read_fd)
            self._read_fd = None
        if self.pid is not None:
            pid, self.pid = self.pid, None
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)

    def __enter__(self) -> ForkedItems:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _child(produce: Callable[[], Iterable[Any]], read_fd: int, write_fd: int) -> None:
    code = 1
    try:
        gc.disable()
        os.close(read_fd)
        for item in produce():
            payload = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
            _write_all(write_fd, _LENGTH.pack(len(payload)) + payload)
        code = 0
    except BaseException:  # noqa: BLE001, S110 - the parent sees the pipe end and makes the rest
        pass
    finally:
        os._exit(code)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
