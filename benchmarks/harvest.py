"""Harvest: the Socrata connector (scroll_id, 1000 a page) against naive offset paging (limit 100).

Both harvest the same simulated portal (served from a child process, see `served.py`) with
the same HTTP client, so the ratio isolates the paging strategy. The portal counts the requests
it served. On loopback the time is mostly CPU (parsing, normalizing); a second pass adds a
fixed latency to every request (a portal some way off), where the number of requests shows.
The naive loop is what a first script does: `offset += 100` until a short page. Past
offset + limit 10,000 the Discovery API answers 400, so on a bigger catalog it also shows what
offset paging loses. Memory: tracemalloc peak of one harvest of ours at N and 2N datasets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wwc_pipeline.connectors import socrata

from benchmarks.common import Memory, bench_client, interleaved, ratio, traced_memory, without_gc
from benchmarks.served import ServedPortal
from wwc_pipeline.config import PortalConfig
from wwc_pipeline.http import HttpClient, HttpError
from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.pipeline import harvest_portal

NAIVE_LIMIT = 100  # the Discovery API's default `limit`
Harvest = Callable[[ServedPortal, HttpClient], "HarvestOutcome"]


@dataclass
class HarvestOutcome:
    """What one harvest produced, measured the same way for both contenders."""

    records: list[DatasetRecord]
    requests: int = 0
    error: str | None = None  # why it stopped early, if it did
    warnings: list[str] = field(default_factory=list)

    def dataset_ids(self) -> set[str]:
        return {record.dataset_id for record in self.records if record.is_dataset}


def naive_harvest(portal: ServedPortal, client: HttpClient) -> HarvestOutcome:
    """Offset paging at the default limit until a short page or an error (the baseline)."""
    url = portal.url + socrata.CATALOG_PATH
    params = {"domains": portal.domain, "search_context": portal.domain, "limit": NAIVE_LIMIT}
    records: list[DatasetRecord] = []
    offset = 0
    while True:
        try:
            response = client.get_json(url, params={**params, "offset": offset})
        except HttpError as error:
            return HarvestOutcome(records, error=str(error))
        records.extend(socrata.records_from_document(response.data, portal.domain))
        got = len(response.data["results"])
        offset += got
        if got < NAIVE_LIMIT:
            return HarvestOutcome(records)


def our_harvest(portal: ServedPortal, client: HttpClient) -> HarvestOutcome:
    """The pipeline's own step: `pipeline.harvest_portal` through the Socrata connector."""
    snapshot = harvest_portal(PortalConfig(platform="socrata", url=portal.url), client)
    return HarvestOutcome(snapshot.records, warnings=snapshot.warnings)


def counted(portal: ServedPortal, harvest: Harvest, client: HttpClient) -> Callable[[], HarvestOutcome]:
    """A harvest run that also records how many catalog requests the portal served for it."""

    def run() -> HarvestOutcome:
        portal.clear_requests()
        outcome = harvest(portal, client)
        outcome.requests = portal.requests(socrata.CATALOG_PATH)
        return outcome

    return run


def warm(portal: ServedPortal, client: HttpClient) -> None:
    """Make the simulator render and index its documents before anything is timed or traced."""
    url = portal.url + socrata.CATALOG_PATH
    client.get_json(url, params={"limit": 1})
    client.get_json(url, params={"limit": 1, "scroll_id": ""})


def summary(outcome: HarvestOutcome, expected: set[str]) -> dict[str, Any]:
    got = outcome.dataset_ids()
    return {
        "assets": len(outcome.records),
        "datasets": len(got),
        "missing_datasets": len(expected - got),
        "complete": got == expected,
        "requests": outcome.requests,
        "stopped_by": outcome.error,
        "warnings": len(outcome.warnings),
    }


def timed_phase(
    portal: ServedPortal, client: HttpClient, repeat: int, gc_off: bool = False
) -> dict[str, Any]:
    """Both harvests `repeat` times, interleaved: medians, what each got, and the ratios. With
    `gc_off`, also both with the garbage collector off (a diagnostic of what the collector costs)."""
    runs = {"ours": counted(portal, our_harvest, client), "naive": counted(portal, naive_harvest, client)}
    if gc_off:
        runs.update({f"{name}_gc_off": without_gc(run) for name, run in list(runs.items())})
    timings = interleaved(repeat, runs, keep=lambda outcome: summary(outcome, portal.dataset_ids))
    got = {name: timing.result for name, timing in timings.items()}
    per_dataset = {name: timings[name].median / max(1, got[name]["datasets"]) for name in timings}
    result = {name: {**timings[name].as_dict(), **got[name]} for name in ("ours", "naive")}
    result["ratios"] = {
        "time_naive_over_ours": ratio(timings["naive"].median, timings["ours"].median),
        "time_per_dataset_naive_over_ours": ratio(per_dataset["naive"], per_dataset["ours"]),
        "requests_naive_over_ours": ratio(got["naive"]["requests"], got["ours"]["requests"]),
    }
    if gc_off:
        for name in ("ours", "naive"):
            result[f"{name}_gc_off"] = timings[f"{name}_gc_off"].as_dict()
        result["ratios"]["time_per_dataset_naive_over_ours_gc_off"] = ratio(
            per_dataset["naive_gc_off"], per_dataset["ours_gc_off"]
        )
    return result


def run(size: int, repeat: int, seed: int = 1, latency_s: float = 0.05) -> dict[str, Any]:
    """Time both harvests on loopback and with `latency_s` a request; our memory at N and 2N."""
    with bench_client() as client:
        with ServedPortal(size, seed) as portal:
            assets = portal.assets
            warm(portal, client)
            phases: dict[str, Any] = {"loopback": timed_phase(portal, client, repeat, gc_off=True)}
            if latency_s > 0:
                portal.set_latency(latency_s)
                phases["latency"] = {
                    "latency_ms": round(latency_s * 1000, 1),
                    **timed_phase(portal, client, repeat),
                }
                portal.set_latency(0.0)
            memory_n, datasets_n = traced_harvest(portal, client)
        with ServedPortal(2 * size, seed) as bigger:
            memory_2n, datasets_2n = traced_harvest(bigger, client)
    return {
        "size": size,
        "assets_in_catalog": assets,
        **phases,
        "memory": {
            "n": {"datasets": datasets_n, **memory_n.as_dict()},
            "2n": {"datasets": datasets_2n, **memory_2n.as_dict()},
            "ratios": {
                "peak_2n_over_n": ratio(memory_2n.peak_bytes, memory_n.peak_bytes),
                "retained_2n_over_n": ratio(memory_2n.retained_bytes, memory_n.retained_bytes),
                "transient_2n_over_n": ratio(memory_2n.transient_bytes, memory_n.transient_bytes),
            },
        },
    }


def traced_harvest(portal: ServedPortal, client: HttpClient) -> tuple[Memory, int]:
    """Peak and retained memory of one of our harvests, and how many datasets it got."""
    warm(portal, client)
    memory, outcome = traced_memory(lambda: our_harvest(portal, client))
    return memory, len(outcome.dataset_ids())
