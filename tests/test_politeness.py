"""Per-host politeness: never more than N in flight to one host, other hosts not held up."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from wwc_pipeline.politeness import HostLimiter, host_of


def test_host_is_host_and_port_without_credentials():
    assert host_of("https://user:secret@Data.Example.gov/api?x=1") == "data.example.gov"
    assert host_of("http://127.0.1.5:8080/data.json") == "127.0.1.5:8080"
    assert host_of("http://127.0.1.5:8080/a") == host_of("http://127.0.1.5:8080/b")
    assert host_of("http://127.0.1.5:8080/") != host_of("http://127.0.1.6:8080/")


def test_no_more_than_the_limit_in_flight_per_host():
    limiter = HostLimiter(per_host=2)
    lock = threading.Lock()
    in_flight: dict[str, int] = {}
    most: dict[str, int] = {}

    def request(url: str) -> None:
        with limiter.slot(url):
            with lock:
                in_flight[url] = in_flight.get(url, 0) + 1
                most[url] = max(most.get(url, 0), in_flight[url])
            time.sleep(0.02)
            with lock:
                in_flight[url] -= 1

    urls = ["http://127.0.1.1:9/page"] * 8 + ["http://127.0.1.2:9/page"] * 8
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(request, urls))
    assert most == {"http://127.0.1.1:9/page": 2, "http://127.0.1.2:9/page": 2}
    assert limiter.most_in_flight() == 2 and limiter.most_in_flight(urls[0]) == 2


def test_each_host_gets_its_own_slots():
    limiter = HostLimiter(per_host=2)
    everyone_inside = threading.Barrier(4, timeout=10)  # broken unless 2 + 2 are in at once

    def request(url: str) -> None:
        with limiter.slot(url):
            everyone_inside.wait()

    urls = ["http://127.0.1.1:9/a", "http://127.0.1.1:9/b", "http://127.0.1.2:9/a", "http://127.0.1.2:9/b"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(request, urls))
    assert limiter.most_in_flight("http://127.0.1.2:9/") == 2


def test_a_limit_below_one_is_refused():
    with pytest.raises(ValueError, match="1 or more"):
        HostLimiter(per_host=0)


@pytest.mark.parametrize(
    ("configured", "temporary", "tagged"),
    [(None, False, True), (None, True, False), (True, True, True), (False, False, False)],
)
def test_harvests_carry_host_tags_unless_on_our_temporary_server(
    configured, temporary, tagged, monkeypatch
) -> None:
    """A tag limit lives on a lasting Prefect server; on the temporary one the tag only costs slot calls."""
    from wwc_pipeline.flows.portal_driver import uses_host_tags

    from wwc_pipeline.config import Concurrency
    from wwc_pipeline.prefect_local import TEMPORARY_MARK

    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4321/api")
    if temporary:
        monkeypatch.setenv(TEMPORARY_MARK, "http://127.0.0.1:4321/api")
    else:
        monkeypatch.delenv(TEMPORARY_MARK, raising=False)
    assert uses_host_tags(Concurrency(host_tags=configured)) is tagged


def test_requests_are_spaced_only_when_an_interval_is_set(tmp_path) -> None:
    """`per_host` alone bounds a host by default; `concurrency.min_interval_s` spaces the starts
    of its requests, and a portal's own `min_interval_s` overrides that for the portal's view."""
    from wwc_pipeline.config import load_cities
    from wwc_pipeline.http import HttpClient

    path = tmp_path / "cities.yaml"
    path.write_text(
        "concurrency: {min_interval_s: 0.5}\n"
        "cities:\n- id: a\n  name: A\n  portals:\n"
        "  - {platform: socrata, url: 'http://127.0.1.1:9'}\n"
        "  - {platform: ckan, url: 'http://127.0.1.2:9', min_interval_s: 2}\n"
    )
    config = load_cities(path)
    plain, throttled = config.cities[0].portals
    slept: list[float] = []
    with HttpClient(min_interval=config.concurrency.min_interval_s, sleep=slept.append) as client:
        for _ in range(2):
            client.for_portal(plain).wait_turn("http://127.0.1.1:9/page")
            client.for_portal(throttled).wait_turn("http://127.0.1.2:9/page")
    assert len(slept) == 2 and sorted(round(s, 1) for s in slept) == [0.5, 2.0]
    slept.clear()
    with HttpClient(sleep=slept.append) as client:  # the default: no interval at all
        for _ in range(3):
            client.for_portal(plain).wait_turn("http://127.0.1.1:9/page")
    assert slept == []


def test_a_negative_interval_is_a_config_error(tmp_path) -> None:
    from wwc_pipeline.config import ConfigError, load_cities

    path = tmp_path / "cities.yaml"
    path.write_text(
        "cities:\n- id: a\n  name: A\n  portals:\n"
        "  - {platform: socrata, url: 'http://127.0.1.1:9', min_interval_s: -1}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_cities(path)
    assert len(caught.value.problems) == 1 and "min_interval_s" in caught.value.problems[0]
