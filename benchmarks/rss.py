"""Peak resident memory of a process tree: the pipeline and every process it starts.

A pipeline that evaluates in worker processes uses the memory of all of them at once, so the
peak is of their sum, sampled (Linux /proc) every `interval_s`. A sample can miss a spike
shorter than the interval; the root process's own high-water mark (VmHWM, exact) is kept too.

Each sample is also split by role (`role_of`): the root process (`wwc`), the temporary Prefect
API server it starts (`prefect_server`) and everything else (`other`: Dask or evaluation
workers), so a growing peak says whose memory grows. Each role's peak is its own highest sum
(the roles' peaks need not fall in the same sample); `at_peak` is the split of the sample with
the highest total. The CPU seconds of each role (`cpu_by_role_s`) are the last user + system
time seen of each of its processes (/proc/PID/stat), so a worker that exits between two samples
loses at most one interval of its CPU.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

PAGE_KB = 1024
ROLES = ("wwc", "prefect_server", "other")
SERVER_MARK = "wwc_pipeline.prefect_local"  # the temporary server's argv (prefect_local.server_command)


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid: int) -> int:
    """User + system CPU of a process so far, in clock ticks (0 when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
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


def role_of(pid: int, root: int) -> str:
    """`wwc` for the root, `prefect_server` for the temporary Prefect server, else `other`."""
    if pid == root:
        return "wwc"
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "other"
    return "prefect_server" if SERVER_MARK.encode() in argv else "other"


def tree_rss_by_role_kb(pid: int, cpu_seen: dict[int, tuple[str, int]] | None = None) -> dict[str, int]:
    """Summed RSS of the tree under `pid`, per role; with `cpu_seen`, each member's role and CPU
    ticks so far are recorded there too."""
    split = dict.fromkeys(ROLES, 0)
    for member in descendants(pid):
        role = role_of(member, pid)
        split[role] += _status_kb(member, "VmRSS")
        if cpu_seen is not None:
            ticks = cpu_ticks(member)
            if ticks:  # an exiting process's argv reads empty: it keeps the role it had
                known = cpu_seen.get(member, ("other", 0))[0]
                cpu_seen[member] = (role if known == "other" else known, ticks)
    return split


class PeakTreeRss:
    """`with PeakTreeRss(pid) as peak: ...; peak.peak_mb`: the highest summed RSS seen;
    `peak.by_role()`: the same per role; `peak.timeline`: (seconds, MB per role) every
    `timeline_s` seconds when asked for."""

    def __init__(self, pid: int, interval_s: float = 0.2, timeline_s: float = 0.0) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.timeline_s = timeline_s
        self.peak_kb = 0
        self.root_hwm_kb = 0
        self.role_peak_kb = dict.fromkeys(ROLES, 0)
        self.at_peak_kb = dict.fromkeys(ROLES, 0)
        self.timeline: list[dict[str, float]] = []
        self.cpu_seen: dict[int, tuple[str, int]] = {}  # pid -> (role, CPU ticks last seen)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)

    def _sample(self) -> None:
        started = time.monotonic()
        next_mark = 0.0
        while not self._stop.is_set():
            split = tree_rss_by_role_kb(self.pid, self.cpu_seen)
            total = sum(split.values())
            if total > self.peak_kb:
                self.peak_kb, self.at_peak_kb = total, split
            for role, kb in split.items():
                self.role_peak_kb[role] = max(self.role_peak_kb[role], kb)
            self.root_hwm_kb = max(self.root_hwm_kb, _status_kb(self.pid, "VmHWM"))
            elapsed = time.monotonic() - started
            if self.timeline_s and elapsed >= next_mark:
                self.timeline.append({"s": round(elapsed, 1), **_mb(split)})
                next_mark += self.timeline_s
            self._stop.wait(self.interval_s)

    @property
    def peak_mb(self) -> float:
        return round(max(self.peak_kb, self.root_hwm_kb) / PAGE_KB, 1)

    def by_role(self) -> dict[str, object]:
        """Each role's peak (MB), the root's exact high-water mark and the split at the peak."""
        return {
            **_mb(self.role_peak_kb),
            "wwc_hwm": round(self.root_hwm_kb / PAGE_KB, 1),
            "at_peak": _mb(self.at_peak_kb),
        }

    def cpu_by_role_s(self) -> dict[str, float]:
        """CPU seconds of each role's processes, as last seen."""
        totals = dict.fromkeys(ROLES, 0)
        for role, ticks in self.cpu_seen.values():
            totals[role] += ticks
        return {role: round(ticks / CLOCK_TICKS, 1) for role, ticks in totals.items()}

    def __enter__(self) -> PeakTreeRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _mb(split: dict[str, int]) -> dict[str, float]:
    return {role: round(kb / PAGE_KB, 1) for role, kb in split.items()}
