"""A catalog's pages are revalidated `per_host` at a time (their URLs are known from the last
harvest) and read in their order; the first page that changed ends it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from wwc_pipeline.config import PortalConfig
from wwc_pipeline.http import HttpClient
from wwc_pipeline.http_conditional import PageValidator, revalidate

ANSWER_S = 0.2  # each answer takes this long, so that requests sent together overlap (a busy machine too)


class Portal:
    """A loopback portal answering 304 to If-None-Match "v1" except on the `changed` paths."""

    def __init__(self) -> None:
        self.changed: set[str] = set()
        self.paths: list[str] = []
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()
        self.url = ""


@pytest.fixture
def portal() -> Iterator[Portal]:
    served = Portal()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            with served.lock:
                served.paths.append(self.path)
                served.in_flight += 1
                served.most_in_flight = max(served.most_in_flight, served.in_flight)
            time.sleep(ANSWER_S)
            same = self.headers.get("If-None-Match") == '"v1"' and self.path not in served.changed
            with served.lock:
                served.in_flight -= 1
            self.send_response(304 if same else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield served
    server.shutdown()
    server.server_close()


def pages(portal: Portal, count: int) -> list[PageValidator]:
    return [PageValidator(f"{portal.url}/page/{n}", '"v1"', None) for n in range(1, count + 1)]


def revalidated(portal: Portal, validators: list[PageValidator], per_host: int) -> bool:
    with HttpClient(per_host=per_host, min_interval=0, backoff=0, max_attempts=1) as client:
        return revalidate(client.for_portal(PortalConfig(platform="socrata", url=portal.url)), validators)


def test_every_page_unchanged_is_found_per_host_pages_at_once(portal: Portal) -> None:
    assert revalidated(portal, pages(portal, 8), per_host=2)
    assert sorted(portal.paths) == sorted(f"/page/{n}" for n in range(1, 9))  # each page once
    assert portal.most_in_flight == 2  # two at a time (one at a time before), never more


def test_one_at_a_time_for_a_host_that_takes_one(portal: Portal) -> None:
    assert revalidated(portal, pages(portal, 4), per_host=1)
    assert portal.paths == [f"/page/{n}" for n in range(1, 5)] and portal.most_in_flight == 1


def test_the_first_changed_page_ends_it(portal: Portal) -> None:
    portal.changed = {"/page/2"}
    assert not revalidated(portal, pages(portal, 8), per_host=2)
    # pages 1 and 2 asked together; at most the one after the change was under way as well
    assert set(portal.paths) <= {"/page/1", "/page/2", "/page/3"} and "/page/2" in portal.paths


def test_a_page_without_a_validator_means_a_full_harvest_without_asking(portal: Portal) -> None:
    unvalidated = [*pages(portal, 3), PageValidator(f"{portal.url}/page/4", None, None)]
    assert not revalidated(portal, unvalidated, per_host=2)
    assert portal.paths == []
