"""The error a flow ends with when cities failed, carrying every city's summary."""

from __future__ import annotations


class CityScanFailed(RuntimeError):
    def __init__(self, summaries: dict[str, dict]):
        self.summaries = summaries
        failed = {cid: s for cid, s in summaries.items() if s.get("status") == "failed"}
        reasons = "; ".join(f"{cid}: {s.get('error') or 'failed'}" for cid, s in failed.items())
        super().__init__(f"{len(failed)} of {len(summaries)} cities failed: {reasons}")
