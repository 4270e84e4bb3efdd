"""Peak resident memory of a process tree: the pipeline and every process it starts.

A pipeline that evaluates in worker processes uses the memory of all of them at once, so the
peak is of their sum, sampled (Linux /proc) every `interval_s`. A sample can miss a spike
shorter than the interval; the root process's own high-water mark (VmHWM, exact) is kept too.
"""

from __future__ import annotations

import threading
from pathlib import Path

PAGE_KB = 1024


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (children lists of each thread, recursively)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                queue.extend(int(child) for child in children.read_text().split())
            except (OSError, ValueError):
                continue
    return found


def tree_rss_kb(pid: int) -> int:
    return sum(_status_kb(member, "VmRSS") for member in descendants(pid))


class PeakTreeRss:
    """`with PeakTreeRss(pid) as peak: ...; peak.peak_mb`: the highest summed RSS seen."""

    def __init__(self, pid: int, interval_s: float = 0.2) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.peak_kb = 0
        self.root_hwm_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.pid))
            self.root_hwm_kb = max(self.root_hwm_kb, _status_kb(self.pid, "VmHWM"))
            self._stop.wait(self.interval_s)

    @property
    def peak_mb(self) -> float:
        return round(max(self.peak_kb, self.root_hwm_kb) / PAGE_KB, 1)

    def __enter__(self) -> PeakTreeRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
