"""Is a `running` run still alive? Its process (host, pid, start time) and its heartbeat say.

A run records the process that runs it and beats (updates `heartbeat_at`) while that process
lives. When a run starts, and when runs are listed, any run still `running` whose process is
gone (same host, and the pid is not alive, or is alive but started at another time: the pid
was reused) or whose heartbeat is older than the stale limit is marked `failed` with an error
that starts with "abandoned:". Other hosts' runs are judged by their heartbeat alone.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psutil

log = logging.getLogger("wwc_pipeline")

STALE_ENV = "WWC_RUN_STALE_SECONDS"
DEFAULT_STALE_SECONDS = 300.0  # five minutes without a heartbeat: abandoned
START_TOLERANCE_S = 1.0  # process start times are exact to the clock tick; allow rounding


@dataclass(frozen=True)
class ProcessIdentity:
    host: str
    pid: int
    started_at: datetime  # the process's start time (UTC)


def this_process() -> ProcessIdentity:
    pid = os.getpid()
    started = datetime.fromtimestamp(psutil.Process(pid).create_time(), UTC)
    return ProcessIdentity(socket.gethostname(), pid, started)


def stale_after_default() -> timedelta:
    """`WWC_RUN_STALE_SECONDS` (a number of seconds), else five minutes."""
    configured = os.environ.get(STALE_ENV, "").strip()
    if not configured:
        return timedelta(seconds=DEFAULT_STALE_SECONDS)
    try:
        seconds = float(configured)
    except ValueError:
        raise ValueError(f"{STALE_ENV}={configured!r} is not a number of seconds") from None
    if seconds <= 0:
        raise ValueError(f"{STALE_ENV} must be more than 0 seconds, got {configured}")
    return timedelta(seconds=seconds)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands times back without their zone; they were stored as UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def process_gone(pid: int, started_at: datetime | None) -> str | None:
    """Why a process of this host is gone (None: it is alive and is the one that was recorded)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return f"process {pid} has exited"
        created = datetime.fromtimestamp(process.create_time(), UTC)
    except psutil.NoSuchProcess:
        return f"process {pid} is gone"
    except psutil.AccessDenied:
        return None  # it exists; we may not look closer
    started_at = aware(started_at)
    if started_at is not None and abs((created - started_at).total_seconds()) > START_TOLERANCE_S:
        return (
            f"process {pid} is gone (the pid now belongs to a process started {created:%Y-%m-%d %H:%M:%S}Z)"
        )
    return None


def abandoned_reason(run: object, here: ProcessIdentity, now: datetime, stale_after: timedelta) -> str | None:
    """The "abandoned: ..." error for a running run that is no longer alive, else None."""
    host, pid = getattr(run, "host", None), getattr(run, "pid", None)
    last_sign = aware(getattr(run, "heartbeat_at", None)) or aware(run.started_at)
    if host == here.host and pid is not None:
        gone = process_gone(pid, getattr(run, "process_started_at", None))
        if gone:
            return f"abandoned: {gone} (host {host}); the run never finished"
    if last_sign is not None and now - last_sign > stale_after:
        where = f"process {pid} on {host}" if host else "an unknown process"
        return (
            f"abandoned: no heartbeat from {where} since {last_sign:%Y-%m-%d %H:%M:%S}Z "
            f"(stale after {stale_after.total_seconds():.0f} s)"
        )
    return None


class Heartbeat:
    """A daemon thread that beats for the runs this process has open, every `interval` seconds.

    `beat(run_ids)` writes the heartbeat; a failed beat (database busy, gone) is logged and
    tried again at the next interval. The thread ends when no run is left or on `stop()`.
    """

    def __init__(self, beat: Callable[[list[int]], None], interval: float) -> None:
        self._beat = beat
        self._interval = interval
        self._runs: set[int] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, run_id: int) -> None:
        with self._lock:
            self._runs.add(run_id)
            if self._thread is None:
                self._wake.clear()
                self._thread = threading.Thread(target=self._loop, name="wwc-heartbeat", daemon=True)
                self._thread.start()

    def beating(self) -> set[int]:
        """The runs this process beats for now: alive by definition."""
        with self._lock:
            return set(self._runs)

    def discard(self, run_id: int) -> None:
        with self._lock:
            self._runs.discard(run_id)

    def stop(self) -> None:
        with self._lock:
            self._runs.clear()
            self._thread = None
        self._wake.set()

    def _loop(self) -> None:
        while not self._wake.wait(self._interval):
            with self._lock:
                runs = sorted(self._runs)
                if not runs:
                    self._thread = None
                    return
            try:
                self._beat(runs)
            except Exception as error:  # noqa: BLE001 - a missed beat is retried, never fatal
                log.debug("heartbeat for runs %s failed: %s", runs, error)
