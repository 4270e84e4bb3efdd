"""What an outside tester broke (issue 13 items 5, 7; issue 12 item 4), end to end on the simulator.

A portal that drips bytes, a harvest or a run past its deadline, links and redirects to another
loopback address standing in for an internal host (127.0.0.2: no test ever connects outside
127.0.0.0/8), one entry with bytes that are not UTF-8. Memory under gzip bombs and big feeds:
tests/test_memory.py.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from wwc_pipeline.checks.links import links_reachable

from wwc_pipeline.config import CityConfig, PortalConfig, load_criteria
from wwc_pipeline.http import DeadlineError, HttpClient, HttpError, RefusedError
from wwc_pipeline.model import UNDECODABLE
from wwc_pipeline.pipeline import harvest_portal, scan_city
from wwc_pipeline.results import PortalContext, Status
from wwc_pipeline.simulator import Faults, GeneratedCatalog, PortalSimulator
from wwc_pipeline.warehouse import Warehouse

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
INTERNAL = "127.0.0.2"  # stands in for an internal host: loopback, but not the portal's address


def finishes_within(seconds: float, run) -> tuple[dict[str, Any], float]:
    """Run in a thread; fail the test instead of hanging when it is still running after `seconds`."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = run()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error

    started = time.monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s (no deadline)"
    return outcome, time.monotonic() - started


@pytest.fixture
def client():
    with HttpClient(min_interval=0, max_attempts=2, backoff=0.01, sleep=lambda _s: None) as http:
        yield http


@pytest.fixture
def internal():
    """A second simulator on 127.0.0.2: it must never be asked anything unless allowed."""
    with PortalSimulator(host=INTERNAL) as sim:
        yield sim.add_portal("dcat", GeneratedCatalog(size=3, seed=5, as_of=AS_OF))


# ---------------------------------------------------------------- deadlines (13.5)


@pytest.mark.parametrize("platform", ["dcat", "socrata"])
def test_a_dripping_portal_fails_within_its_request_deadline(client, platform):
    with PortalSimulator() as sim:
        portal = sim.add_portal(platform, GeneratedCatalog(size=3, as_of=AS_OF), Faults(drip_interval_s=0.2))
        config = PortalConfig(platform=platform, url=portal.url, request_deadline_s=1.5)
        outcome, elapsed = finishes_within(30, lambda: harvest_portal(config, client))
    error = outcome.get("error")
    assert isinstance(error, DeadlineError), outcome
    assert "failed: the request deadline (1.5 s) passed before the body was complete" in str(error)
    assert "\n" not in str(error) and error.attempts == 1  # a deadline is not retried
    assert elapsed < 1.5 + 5  # the deadline, plus slack for a loaded machine; without it: hours


def test_a_harvest_past_its_deadline_fails_that_portal_with_the_reason(client):
    # OpenDataSoft pages 100 at a time: 250 datasets are 3 requests, each answered after 0.5 s
    with PortalSimulator() as sim:
        portal = sim.add_portal(
            "opendatasoft", GeneratedCatalog(size=250, seed=3, as_of=AS_OF), Faults(latency_s=0.5)
        )
        config = PortalConfig(platform="opendatasoft", url=portal.url, harvest_deadline_s=0.8)
        outcome, _ = finishes_within(30, lambda: harvest_portal(config, client))
        served = len(portal.requests)
    error = outcome.get("error")
    assert isinstance(error, DeadlineError), outcome
    assert "the harvest deadline (0.8 s) passed" in str(error)
    assert served <= 2  # the third page was never asked for


def test_a_run_past_its_deadline_fails_the_portals_not_done(client, tmp_path):
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    warehouse.migrate()
    with PortalSimulator() as sim:
        slow = [
            sim.add_portal(
                "opendatasoft", GeneratedCatalog(size=250, seed=n, as_of=AS_OF), Faults(latency_s=0.5)
            )
            for n in (1, 2)
        ]
        city = CityConfig(
            id="slow",
            name="Slow Town",
            portals=[PortalConfig(platform="opendatasoft", url=portal.url) for portal in slow],
        )
        outcome, _ = finishes_within(
            60,
            lambda: scan_city(
                city, warehouse=warehouse, criteria=load_criteria(), client=client, run_deadline_s=1.0
            ),
        )
        second_asked = len(slow[1].requests)
    result = outcome["value"]
    assert result.status == "failed"
    first, second = (result.failed_portals[portal.url] for portal in slow)
    assert "the run deadline (1 s) passed" in first and first.startswith("GET ")
    assert second == "stopped: the run deadline (1 s) passed" and second_asked == 0
    assert [run["status"] for run in warehouse.runs(city_id="slow")] == ["failed"]


# ---------------------------------------------------------------- the address policy (13.7)


def probe_links(portal, config: PortalConfig, client: HttpClient):
    records = harvest_portal(config, client).records
    context = PortalContext(config.platform, portal.domain, AS_OF, client=client, portal_config=config)
    return links_reachable(records, context)


def test_a_link_to_another_loopback_address_than_the_portals_receives_no_request(client, internal):
    with PortalSimulator() as sim:
        # the catalog is served on 127.0.0.1, its download links point at 127.0.0.2
        portal = sim.add_portal("dcat", GeneratedCatalog(size=6, as_of=AS_OF), public_url=internal.url)
        results = probe_links(portal, PortalConfig(platform="dcat", url=portal.url), client)
    assert len(internal.requests) == 0
    summary, per_link = results[0], results[1:]
    assert per_link and summary.value["reachable"] == 0
    for result in per_link:
        assert result.status is Status.FAIL
        assert result.value["refused"] is True and result.value["status"] is None  # no status published
        assert result.value["error"] == f"not probed: {INTERNAL} is not a public address (loopback)"
        assert result.reason.endswith(f"was not probed: {INTERNAL} is not a public address (loopback).")
    assert f"was not probed: {INTERNAL} is not a public address (loopback)." in summary.reason


def test_a_host_the_operator_allows_is_probed(client, internal):
    with PortalSimulator() as sim:
        portal = sim.add_portal("dcat", GeneratedCatalog(size=6, as_of=AS_OF), public_url=internal.url)
        config = PortalConfig(platform="dcat", url=portal.url, allow_internal_hosts=[INTERNAL])
        results = probe_links(portal, config, client)
    probed = {result.value["url"].split("//", 1)[1].split("/", 1)[1] for result in results[1:]}
    assert probed and probed == {request.path.lstrip("/") for request in internal.requests}
    assert all(r.value.get("refused") is None and r.value["status"] is not None for r in results[1:])


def test_a_redirect_to_an_internal_address_is_not_followed(client, internal):
    with PortalSimulator() as sim:
        portal = sim.add_portal(
            "dcat",
            GeneratedCatalog(size=6, as_of=AS_OF),
            Faults(redirect_to=internal.url, only_paths=("^/files/",)),
        )
        results = probe_links(portal, PortalConfig(platform="dcat", url=portal.url), client)
        redirected = [r for r in portal.requests if r.path.startswith("/files/")]
        portal.set_faults(Faults(redirect_to=internal.url))  # the catalog itself redirects now
        with pytest.raises(RefusedError) as caught:
            harvest_portal(PortalConfig(platform="dcat", url=portal.url), client)
    assert redirected and all(r.status == 302 for r in redirected)
    assert len(internal.requests) == 0
    assert all(r.value["refused"] is True for r in results[1:] if r.value["url"].find("/files/") > 0)
    assert str(caught.value).endswith(
        f"refused, not contacted: {INTERNAL} is not a public address (loopback)"
    )


def test_a_portal_on_an_internal_address_is_scanned_when_configured(client, internal):
    """The configured portal's own host is trusted wherever it lives (the simulator on loopback)."""
    snapshot = harvest_portal(PortalConfig(platform="dcat", url=internal.url), client)
    assert snapshot.records and len(internal.requests) == 1


# ---------------------------------------------------------------- undecodable bytes (12.4)


@pytest.mark.parametrize("platform", ["dcat", "socrata", "ckan", "opendatasoft"])
def test_one_entry_with_invalid_utf8_is_flagged_and_the_harvest_goes_on(client, platform):
    with PortalSimulator() as sim:
        portal = sim.add_portal(platform, GeneratedCatalog(size=12, seed=7, as_of=AS_OF))
        config = PortalConfig(platform=platform, url=portal.url)
        clean = harvest_portal(config, client)
        clean_requests = len(portal.requests)
        portal.set_faults(Faults(invalid_utf8_in=portal.entries[4].title))
        damaged = harvest_portal(config, client)
        damaged_requests = len(portal.requests) - clean_requests
    assert [r.dataset_id for r in damaged.records] == [r.dataset_id for r in clean.records]
    changed = [new for old, new in zip(clean.records, damaged.records, strict=True) if old != new]
    flagged = [record for record in damaged.records if record.flags]
    assert len(changed) == 1 and flagged == changed
    # the text's first occurrence may be another field of that entry (a CKAN resource's name)
    assert flagged[0].flags == [UNDECODABLE] and "\ufffd" in json.dumps(
        flagged[0].to_dict(), ensure_ascii=False
    )
    assert "1 entry had undecodable bytes (replaced)" in damaged.warnings
    assert damaged_requests == clean_requests  # nothing retried


def test_a_city_with_one_undecodable_entry_succeeds(client, tmp_path):
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    warehouse.migrate()
    with PortalSimulator() as sim:
        portal = sim.add_portal("dcat", GeneratedCatalog(size=20, seed=2, as_of=AS_OF))
        portal.set_faults(Faults(invalid_utf8_in=portal.entries[3].title, only_paths=(r"^/data\.json$",)))
        city = CityConfig(id="bytes", name="Bytes", portals=[PortalConfig(platform="dcat", url=portal.url)])
        result = scan_city(city, warehouse=warehouse, criteria=load_criteria(), client=client, as_of=AS_OF)
        catalog_requests = portal.requests.count("/data.json")
    assert result.status == "succeeded", result.error
    assert catalog_requests == 1


def test_invalid_json_that_arrived_whole_is_not_retried(client):
    with PortalSimulator() as sim:
        portal = sim.add_portal("dcat", GeneratedCatalog(size=3, as_of=AS_OF))
        # a byte that is not text between two entries, outside any string: a syntax error
        portal.set_faults(Faults(invalid_utf8_in="},{", only_paths=(r"^/data\.json$",)))
        with pytest.raises(HttpError, match=r"returned invalid JSON \(lexical error") as caught:
            harvest_portal(PortalConfig(platform="dcat", url=portal.url), client)
    assert caught.value.attempts == 1 and portal.requests.count("/data.json") == 1
