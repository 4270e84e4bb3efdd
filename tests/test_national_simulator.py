"""The national simulator: a seeded landscape, one server, a host per portal, conditional requests."""

from __future__ import annotations

import statistics
import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
import requests

from wwc_pipeline.config import load_cities
from wwc_pipeline.simulator import Faults
from wwc_pipeline.simulator.national import NationalSimulator, portal_address
from wwc_pipeline.simulator.national_plan import FULL_DATASETS, FULL_PORTALS, national_plan

AS_OF = datetime(2025, 3, 1, tzinfo=UTC)
LISTING = {
    "socrata": "/api/catalog/v1?limit=1000",
    "dcat": "/data.json",
    "ckan": "/api/3/action/package_search?rows=1000",
    "opendatasoft": "/api/explore/v2.1/catalog/datasets?limit=100",
}


def listed_ids(platform: str, body: dict | list) -> list[str]:
    """Dataset ids read from the raw listing (independently of the connectors)."""
    if platform == "socrata":
        return [r["resource"]["id"] for r in body["results"] if r["resource"]["type"] == "dataset"]
    if platform == "dcat":
        return [d["identifier"] for d in body["dataset"]]
    if platform == "ckan":
        return [p["id"] for p in body["result"]["results"]]
    return [d["dataset_id"] for d in body["results"]]


@pytest.fixture(scope="module")
def sim():
    plan = national_plan(12, datasets=600, seed=5, as_of=AS_OF)
    with NationalSimulator(plan, budget_datasets=10_000) as simulator:
        yield simulator


# --- the plan ---------------------------------------------------------------------------------------
def test_full_plan_looks_like_the_country():
    plan = national_plan()
    sizes = sorted((p.datasets for p in plan.portals), reverse=True)
    platforms = plan.by_platform()
    assert len(plan.portals) == FULL_PORTALS and plan.datasets == FULL_DATASETS
    assert platforms["dcat"] > platforms["socrata"] > platforms["ckan"] > platforms["opendatasoft"] > 0
    big = [p for p in plan.portals if p.datasets >= 10_000]
    assert 3 <= len(big) <= 10 and {p.platform for p in big} == {"socrata"}
    assert statistics.median(sizes) < plan.datasets / len(sizes) / 2  # a long tail: most portals are small
    hub_median = statistics.median(p.datasets for p in plan.portals if p.platform == "dcat")
    socrata_median = statistics.median(p.datasets for p in plan.portals if p.platform == "socrata")
    assert hub_median < socrata_median
    assert sorted(i for city in plan.cities for i in city.portals) == list(range(FULL_PORTALS))
    assert any(len(city.portals) == 2 for city in plan.cities)
    assert len({city.id for city in plan.cities}) == len(plan.cities)


def test_plan_is_seeded_and_scales():
    assert national_plan(85, seed=3) == national_plan(85, seed=3)
    assert national_plan(85, seed=3) != national_plan(85, seed=4)
    tenth = national_plan(85)
    assert tenth.datasets == round(85 * FULL_DATASETS / FULL_PORTALS)
    assert max(p.datasets for p in tenth.portals) >= 10_000  # a big Socrata domain at 10 % already
    assert national_plan(7, datasets=70).datasets == 70
    with pytest.raises(ValueError, match="cannot fill"):
        national_plan(10, datasets=5)
    with pytest.raises(ValueError, match="conditional mode"):
        national_plan(3, conditional="sometimes")


def test_conditional_defaults_follow_platforms_md_and_can_be_overridden():
    plan = national_plan(40)
    modes = {p.platform: p.conditional for p in plan.portals}
    assert modes["socrata"] == "both" and modes["ckan"] == "none"
    assert {p.conditional for p in national_plan(40, conditional="none").portals} == {"none"}
    by_platform = national_plan(40, conditional={"ckan": "etag"}).portals
    assert {p.conditional for p in by_platform if p.platform == "ckan"} == {"etag"}


# --- the server -------------------------------------------------------------------------------------
def test_each_portal_has_its_own_loopback_host_and_serves_its_catalog(sim):
    assert len({portal.address for portal in sim.portals}) == len(sim.portals)
    assert all(portal.url == f"http://{portal_address(i)}:{sim.port}" for i, portal in enumerate(sim.portals))
    for portal in sim.portals:
        answer = requests.get(portal.url + LISTING[portal.platform], timeout=30)
        assert answer.status_code == 200, portal
        ids = listed_ids(portal.platform, answer.json())
        assert len(ids) == len(set(ids))
        # every dataset of the plan, plus the policy entry outside Socrata (a dataset elsewhere)
        policy = portal.spec.include_policy and portal.platform != "socrata"
        assert len(ids) == min(
            portal.spec.datasets + policy, 100 if portal.platform == "opendatasoft" else 10**6
        )


def test_cities_file_loads_and_names_every_portal_once(sim, tmp_path):
    path = sim.write_cities_file(tmp_path / "cities.yaml", portal_options={"check_links": 0})
    config = load_cities(path)
    urls = [portal.url for city in config.cities for portal in city.portals]
    assert sorted(urls) == sorted(portal.url for portal in sim.portals)
    assert all(portal.check_links == 0 for city in config.cities for portal in city.portals)
    platforms = {portal.url: portal.platform for city in config.cities for portal in city.portals}
    assert all(platforms[portal.url] == portal.platform for portal in sim.portals)


def test_most_requests_in_flight_is_recorded_per_host():
    plan = national_plan(3, datasets=30, seed=2)
    with NationalSimulator(plan, latency_s=0.3) as simulator:
        target, other = simulator.portals[0], simulator.portals[1]
        threads = [
            threading.Thread(
                target=requests.get, args=(target.url + "/terms-of-use",), kwargs={"timeout": 30}
            )
            for _ in range(5)
        ]
        threads.append(threading.Thread(target=requests.get, args=(other.url + "/terms-of-use",)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert target.max_in_flight == 5
        assert other.max_in_flight == 1
        assert simulator.max_in_flight() == 5
        assert target.served == 5 and simulator.requests_served() == 6


# --- conditional requests ---------------------------------------------------------------------------
def test_etag_and_last_modified_give_304_until_the_catalog_changes():
    plan = national_plan(6, datasets=120, seed=8, as_of=AS_OF, conditional="both")
    with NationalSimulator(plan) as simulator:
        portal = next(p for p in simulator.portals if p.platform == "socrata")
        url = portal.url + LISTING[portal.platform]
        first = requests.get(url, timeout=30)
        etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
        again = requests.get(url, headers={"If-None-Match": etag}, timeout=30)
        since = requests.get(url, headers={"If-Modified-Since": modified}, timeout=30)
        assert (again.status_code, again.content, since.status_code) == (304, b"", 304)
        assert again.headers["ETag"] == etag
        other_page = requests.get(url + "&offset=5", headers={"If-None-Match": etag}, timeout=30)
        assert other_page.status_code == 200  # another page has another ETag
        portal.touch(1)
        changed = requests.get(
            url, headers={"If-None-Match": etag, "If-Modified-Since": modified}, timeout=30
        )
        assert changed.status_code == 200 and changed.headers["ETag"] != etag
        assert changed.headers["Last-Modified"] != modified
        assert changed.content != first.content
        assert portal.not_modified == 2


def test_a_portal_without_validators_always_answers_in_full():
    plan = national_plan(6, datasets=120, seed=8, conditional="none")
    with NationalSimulator(plan) as simulator:
        portal = simulator.portals[0]
        url = portal.url + LISTING[portal.platform]
        first = requests.get(url, timeout=30)
        assert "ETag" not in first.headers and "Last-Modified" not in first.headers
        again = requests.get(url, headers={"If-None-Match": "*", "If-Modified-Since": first.headers["Date"]})
        assert again.status_code == 200 and again.content == first.content


def test_a_released_catalog_comes_back_byte_for_byte_and_304s_need_no_generation():
    plan = national_plan(4, datasets=400, seed=9, as_of=AS_OF, conditional="both")
    biggest = max(plan.portals, key=lambda spec: spec.datasets)
    with NationalSimulator(plan, budget_datasets=biggest.datasets) as simulator:
        portals = sorted(simulator.portals, key=lambda p: -p.spec.datasets)
        first, second = portals[0], portals[1]
        first.touch(3, seed=1)  # changed before its first generation: replayed on each generation
        url = first.url + LISTING[first.platform]
        before = requests.get(url, timeout=30)
        requests.get(second.url + LISTING[second.platform], timeout=30)  # over budget: `first` goes
        assert not first.held and simulator.pool.evictions >= 1
        conditional = requests.get(url, headers={"If-None-Match": before.headers["ETag"]}, timeout=30)
        assert conditional.status_code == 304 and not first.held and first.generations == 1
        after = requests.get(url, timeout=30)
        assert first.generations == 2
        assert after.content == before.content and after.headers["ETag"] == before.headers["ETag"]


def test_a_faulted_portal_fails_alone(sim):
    down, healthy = sim.portals[0], sim.portals[1]
    down.set_faults(Faults(down=True))
    try:
        assert requests.get(down.url + LISTING[down.platform], timeout=30).status_code == 503
        assert requests.get(healthy.url + LISTING[healthy.platform], timeout=30).status_code == 200
    finally:
        down.set_faults(Faults())
    statuses = Counter(item.status for item in down.requests)
    assert statuses[503] >= 1
