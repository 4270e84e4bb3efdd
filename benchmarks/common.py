"""Measuring helpers shared by the benchmarks: medians of repeated runs, peak memory, ratios."""

from __future__ import annotations

import gc
import os
import platform
import re
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wwc_pipeline.http import HttpClient


@dataclass
class Timed:
    """The wall times of K runs of one thing, and what was kept of its last run's result."""

    seconds: list[float] = field(default_factory=list)
    result: Any = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def as_dict(self) -> dict[str, Any]:
        return {"median_s": round(self.median, 4), "runs_s": [round(s, 4) for s in self.seconds]}


def timed_once(run: Callable[[], Any], into: Timed, keep: Callable[[Any], Any] | None = None) -> Any:
    """Run once after a full garbage collection; keep `keep(result)` (default: the result).

    Keep a summary, not a big result: what stays alive makes every later garbage collection
    walk it, and so slows the runs that follow.
    """
    gc.collect()
    started = time.perf_counter()
    result = run()
    into.seconds.append(time.perf_counter() - started)
    into.result = keep(result) if keep else result
    return into.result


def interleaved(
    repeat: int, runs: dict[str, Callable[[], Any]], keep: Callable[[Any], Any] | None = None
) -> dict[str, Timed]:
    """Each run `repeat` times, alternating between them, so that drift (a warming cache, another
    process) bills every contender alike; `keep` summarises each result (see `timed_once`)."""
    timings = {name: Timed() for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            timed_once(run, timings[name], keep)
    return timings


def without_gc(run: Callable[[], Any]) -> Callable[[], Any]:
    """A diagnostic variant of `run` with the cyclic garbage collector off while it runs: the
    difference to the normal run is what the collector costs, which grows with the live heap."""

    def wrapped() -> Any:
        gc.disable()
        try:
            return run()
        finally:
            gc.enable()

    return wrapped


@dataclass(frozen=True)
class Memory:
    peak_bytes: int  # highest traced allocation during the run, above what existed before
    retained_bytes: int  # still allocated when the run returned (its result held)

    @property
    def transient_bytes(self) -> int:
        """What the run needed on top of its result: page buffers, parsed documents."""
        return self.peak_bytes - self.retained_bytes

    def as_dict(self) -> dict[str, Any]:
        return {
            "peak_mb": mb(self.peak_bytes),
            "retained_mb": mb(self.retained_bytes),
            "transient_mb": mb(self.transient_bytes),
        }


def traced_memory(run: Callable[[], Any]) -> tuple[Memory, Any]:
    """Peak and retained Python allocations of one run (tracemalloc: every thread of the process)."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        result = run()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return Memory(peak - before, current - before), result


def peak_rss_mb() -> float:
    """This process's own peak resident memory, in MB.

    Linux's `VmHWM` (of this process's memory map), not `getrusage().ru_maxrss`: that one keeps
    the parent's peak across fork and exec, so a child of a 400 MB pytest would read 400 MB."""
    try:
        status = open("/proc/self/status").read()  # noqa: SIM115 - one read
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024


def reset_peak_rss() -> None:
    """Start the peak over from the current size (Linux: `/proc/self/clear_refs` 5); else no-op."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def mb(size: int) -> float:
    return round(size / 1048576, 2)


def bench_client() -> HttpClient:
    """The project's client without its politeness delay: the benchmarks time work, not waiting
    (a real portal adds `min_interval` and a network round trip per request, see README). The
    simulated portal on loopback is trusted, as a configured portal's own host is."""
    return HttpClient(min_interval=0.0, max_attempts=1, timeout=(10.0, 120.0), trusted_hosts=("127.0.0.1",))


def machine() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
