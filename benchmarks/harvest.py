"""Harvest: the Socrata connector (scroll_id, 1000 a page) against naive offset paging (limit 100).

Both run in this process against the same simulated portal, with the same HTTP client, so the
ratio isolates the paging strategy. Requests are counted by the simulator (what the portal
served). The naive loop is what a first script does: `offset += 100` until a short page; past
offset + limit 10,000 the Discovery API answers 400, so on a bigger catalog it also shows what
offset paging loses. Memory: tracemalloc peak of one harvest at N and 2N datasets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors import socrata
from wwc_pipeline.config import PortalConfig
from wwc_pipeline.http import HttpClient, HttpError
from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.pipeline import harvest_portal
from wwc_pipeline.simulator import GeneratedCatalog, PortalSimulator, SimulatedPortal

from benchmarks.common import bench_client, interleaved, ratio, traced_memory

NAIVE_LIMIT = 100  # the Discovery API's default `limit`


@dataclass
class HarvestOutcome:
    """What one harvest produced, measured the same way for both contenders."""

    records: list[DatasetRecord]
    requests: int = 0
    error: str | None = None  # why it stopped early, if it did
    warnings: list[str] = field(default_factory=list)

    def dataset_ids(self) -> set[str]:
        return {record.dataset_id for record in self.records if record.is_dataset}


def naive_harvest(portal: SimulatedPortal, client: HttpClient) -> HarvestOutcome:
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


def our_harvest(portal: SimulatedPortal, client: HttpClient) -> HarvestOutcome:
    """The pipeline's own step: `pipeline.harvest_portal` through the Socrata connector."""
    snapshot = harvest_portal(PortalConfig(platform="socrata", url=portal.url), client)
    return HarvestOutcome(snapshot.records, warnings=snapshot.warnings)


def counted(portal: SimulatedPortal, harvest, client: HttpClient):
    """A harvest run that also records how many catalog requests the portal served for it."""

    def run() -> HarvestOutcome:
        portal.requests.clear()
        outcome = harvest(portal, client)
        outcome.requests = portal.requests.count(socrata.CATALOG_PATH)
        return outcome

    return run


def warm(portal: SimulatedPortal, client: HttpClient) -> None:
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


def run(size: int, repeat: int, seed: int = 1) -> dict[str, Any]:
    """Time both harvests `repeat` times (interleaved); trace our harvest's memory at N and 2N."""
    with PortalSimulator() as simulator, bench_client() as client:
        portal = simulator.add_portal("socrata", GeneratedCatalog(size=size, seed=seed))
        expected = {entry.uid for entry in portal.catalog.datasets}
        warm(portal, client)
        timings = interleaved(
            repeat,
            {"ours": counted(portal, our_harvest, client), "naive": counted(portal, naive_harvest, client)},
        )
        ours, naive = timings["ours"], timings["naive"]
        ours_summary = summary(ours.result, expected)
        naive_summary = summary(naive.result, expected)
        ours.result = naive.result = None
        memory = {}
        for label, n in (("n", size), ("2n", 2 * size)):
            if n == size:
                target = portal
            else:
                target = simulator.add_portal("socrata", GeneratedCatalog(size=n, seed=seed))
            warm(target, client)
            traced, outcome = traced_memory(lambda t=target: our_harvest(t, client))
            memory[label] = {"datasets": len(outcome.dataset_ids()), **traced.as_dict(), "_raw": traced}
            del outcome
    peak_n, peak_2n = memory["n"].pop("_raw"), memory["2n"].pop("_raw")
    per_dataset_ours = ours.median / max(1, ours_summary["datasets"])
    per_dataset_naive = naive.median / max(1, naive_summary["datasets"])
    return {
        "size": size,
        "assets_in_catalog": len(portal.catalog.entries),
        "ours": {**ours.as_dict(), **ours_summary},
        "naive": {**naive.as_dict(), **naive_summary},
        "ratios": {
            "time_naive_over_ours": ratio(naive.median, ours.median),
            "time_per_dataset_naive_over_ours": ratio(per_dataset_naive, per_dataset_ours),
            "requests_naive_over_ours": ratio(naive_summary["requests"], ours_summary["requests"]),
            "peak_memory_2n_over_n": ratio(peak_2n.peak_bytes, peak_n.peak_bytes),
            "retained_memory_2n_over_n": ratio(peak_2n.retained_bytes, peak_n.retained_bytes),
            "transient_memory_2n_over_n": ratio(peak_2n.transient_bytes, peak_n.transient_bytes),
        },
        "memory": memory,
    }
