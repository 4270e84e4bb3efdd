"""Socrata live harvest against a small loopback Discovery API written here (not the simulator).

The server enforces what PLATFORMS.md §1.1 documents: limit <= 10000, 400 when offset + limit
> 10000, 400 when `order` comes with `scroll_id`, scroll_id = the last result's id.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from wwc_pipeline.connectors import socrata

from wwc_pipeline.config import PortalConfig
from wwc_pipeline.http import USER_AGENT, HttpClient, HttpError
from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.paging import PagingError

ASSETS = 2500
TOKEN = "app-token-5d1e0c"
ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def four_by_four(rng: random.Random) -> str:
    return (
        "".join(rng.choice(ALPHABET) for _ in range(4))
        + "-"
        + "".join(rng.choice(ALPHABET) for _ in range(4))
    )


def generate(domain: str) -> list[dict]:
    rng = random.Random(2500)
    ids: set[str] = set()
    while len(ids) < ASSETS:
        ids.add(four_by_four(rng))
    results = []
    for n, asset_id in enumerate(sorted(ids, key=lambda _: rng.random())):  # catalog order is not id order
        results.append(
            {
                "resource": {
                    "id": asset_id,
                    "name": f"Asset {n}",
                    "type": "dataset" if n % 3 else "map",
                    "description": f"Description {n}",
                    "updatedAt": "2024-01-02T03:04:05.000Z",
                },
                "classification": {"domain_tags": [f"tag{n % 5}"], "categories": [], "domain_metadata": []},
                "metadata": {"domain": domain},
                "permalink": f"https://{domain}/d/{asset_id}",
            }
        )
    return results


class Discovery(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), DiscoveryHandler)
        self.domain = f"127.0.0.1:{self.server_address[1]}"
        self.catalog = generate(self.domain)
        self.requests: list[tuple[dict, Any]] = []  # query, headers (case-insensitive)
        self.bodies: list[bytes] = []
        self.ignore_scroll = False
        self.error_body: dict | None = None
        self.repeat_last = False  # start each scroll page with the previous page's last result
        self.rows: dict[str, list[dict]] = {
            "abcd-1234": [{"ward": str(n), "count": str(n * 2)} for n in range(50)]
        }

    @property
    def base(self) -> str:
        return f"http://{self.domain}"


class DiscoveryHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status: int, data: object) -> None:
        body = json.dumps(data).encode()
        self.server.bodies.append(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        server: Discovery = self.server  # type: ignore[assignment]
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        server.requests.append((query, self.headers))  # header names ignore case
        if parts.path == "/api/catalog/v1":
            return self.catalog(server, query)
        if parts.path.startswith("/resource/") and parts.path.endswith(".json"):
            rows = server.rows.get(parts.path[len("/resource/") : -len(".json")])
            if rows is None:
                return self.reply(404, {"code": "not_found", "error": True, "message": "Not found"})
            return self.reply(200, rows[: int(query.get("$limit", 1000))])
        return self.reply(404, {"error": "no such path"})

    def catalog(self, server: Discovery, query: dict) -> None:
        if query.get("domains") != server.domain:  # another domain or all domains: not this test's catalog
            return self.reply(200, {"results": [], "resultSetSize": 0, "timings": {}})
        if server.error_body:
            return self.reply(200, server.error_body)
        limit, offset = int(query.get("limit", 100)), int(query.get("offset", 0))
        if limit > 10000 or offset + limit > 10000:
            return self.reply(400, {"error": "Paging beyond 10000 results requires scroll_id"})
        if "order" in query and "scroll_id" in query:
            return self.reply(400, {"error": "Ordering is not supported with scroll_id"})
        if "scroll_id" in query and not server.ignore_scroll:
            ordered = sorted(server.catalog, key=lambda r: r["resource"]["id"])
            after = [r for r in ordered if r["resource"]["id"] > query["scroll_id"]]
            page = after[:limit]
            if server.repeat_last and after:
                previous = [r for r in ordered if r["resource"]["id"] == query["scroll_id"]]
                page = (previous + after)[:limit]
        elif "scroll_id" in query or not query.get("offset"):
            page = sorted(server.catalog, key=lambda r: r["resource"]["id"])[:limit]
        else:
            page = server.catalog[offset : offset + limit]
        timings = {"serviceMillis": len(server.requests)}
        self.reply(200, {"results": page, "resultSetSize": len(server.catalog), "timings": timings})


@pytest.fixture
def portal_server():
    httpd = Discovery()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def client():
    with HttpClient(min_interval=0, backoff=0, max_attempts=2) as http:
        yield http


def portal_for(server: Discovery, **extra) -> PortalConfig:
    return PortalConfig(platform="socrata", url=server.base, **extra)


def catalog_requests(server: Discovery) -> list[dict]:
    return [query for query, _headers in server.requests if "domains" in query]


def test_harvest_returns_every_asset_once_with_scroll_id(portal_server, client, monkeypatch):
    monkeypatch.setenv("WWC_TEST_SOCRATA_TOKEN", TOKEN)
    portal = portal_for(portal_server, app_token_env="WWC_TEST_SOCRATA_TOKEN")
    pages = list(socrata.harvest(portal, client))
    records = [record for page in pages for record in page.records]
    assert len(records) == ASSETS
    assert {r.dataset_id for r in records} == {r["resource"]["id"] for r in portal_server.catalog}
    assert all(isinstance(r, DatasetRecord) and r.portal == portal_server.domain for r in records)
    assert sum(r.is_dataset for r in records) == sum(
        r["resource"]["type"] == "dataset" for r in portal_server.catalog
    )
    assert [len(page.records) for page in pages] == [1000, 1000, 500]
    assert all(page.total_hint == ASSETS and page.warnings == [] for page in pages)
    assert [page.raw_digest for page in pages] == [
        hashlib.sha256(b).hexdigest() for b in portal_server.bodies
    ]
    queries = catalog_requests(portal_server)
    assert all(q["domains"] == q["search_context"] == portal_server.domain for q in queries)
    assert all("offset" not in q and "order" not in q and q["limit"] == "1000" for q in queries)
    assert [q.get("scroll_id") for q in queries][1:] == [
        pages[0].records[-1].dataset_id,
        pages[1].records[-1].dataset_id,
    ]
    assert all(headers["X-App-Token"] == TOKEN for _q, headers in portal_server.requests)
    assert all(headers["User-Agent"] == USER_AGENT for _q, headers in portal_server.requests)
    assert all(TOKEN not in page.url for page in pages)


def test_the_test_server_refuses_offset_paging_past_10000(portal_server, client):
    url = portal_server.base + "/api/catalog/v1"
    with pytest.raises(HttpError, match="HTTP 400: Paging beyond 10000 results requires scroll_id"):
        client.for_portal(portal_for(portal_server)).get_json(
            url, params={"domains": portal_server.domain, "limit": 1000, "offset": 9500}
        )


def test_harvest_with_the_largest_page_size_is_one_page(portal_server, client):
    pages = list(socrata.harvest(portal_for(portal_server), client, page_size=10000))
    assert [len(page.records) for page in pages] == [ASSETS]
    assert "X-App-Token" not in portal_server.requests[0][1]  # no token configured: none sent


def test_results_repeated_across_pages_are_dropped_with_a_warning(portal_server, client):
    portal_server.repeat_last = True
    pages = list(socrata.harvest(portal_for(portal_server), client))
    ids = [record.dataset_id for page in pages for record in page.records]
    assert len(ids) == len(set(ids)) == ASSETS
    assert "1 results repeat an id already harvested" in pages[1].warnings[0]


def test_a_portal_ignoring_scroll_id_is_an_error_not_a_loop(portal_server, client):
    portal_server.ignore_scroll = True
    with pytest.raises(PagingError, match="page 2 .* repeats only items already seen"):
        list(socrata.harvest(portal_for(portal_server), client))
    assert len(catalog_requests(portal_server)) == 2


def test_an_error_in_a_200_body_is_reported(portal_server, client):
    portal_server.error_body = {"error": "Unrecognized search_context"}
    with pytest.raises(PagingError, match="no list of items .*error: Unrecognized search_context"):
        list(socrata.harvest(portal_for(portal_server), client))


def test_sample_rows_in_one_get(portal_server, client, monkeypatch):
    monkeypatch.setenv("WWC_TEST_SOCRATA_TOKEN", TOKEN)
    portal = portal_for(portal_server, app_token_env="WWC_TEST_SOCRATA_TOKEN")
    record = DatasetRecord(platform="socrata", portal=portal_server.domain, dataset_id="abcd-1234")
    rows = socrata.sample_rows(portal, client, record, 20)
    assert rows == portal_server.rows["abcd-1234"][:20]
    query, headers = portal_server.requests[-1]
    assert query["$limit"] == "20"
    assert headers["X-App-Token"] == TOKEN and headers["User-Agent"] == USER_AGENT


def test_sample_rows_failure_is_a_one_line_http_error(portal_server, client):
    record = DatasetRecord(platform="socrata", portal=portal_server.domain, dataset_id="gone-0000")
    with pytest.raises(HttpError) as caught:
        socrata.sample_rows(portal_for(portal_server), client, record, 10)
    assert caught.value.status == 404
    assert str(caught.value) == (
        f"GET {portal_server.base}/resource/gone-0000.json?$limit=10 failed: HTTP 404: Not found"
    )


def test_sample_rows_of_a_non_dataset_is_none(portal_server, client):
    record = DatasetRecord(
        platform="socrata", portal=portal_server.domain, dataset_id="map0-0000", is_dataset=False
    )
    assert socrata.sample_rows(portal_for(portal_server), client, record, 10) is None
    assert portal_server.requests == []


def test_harvest_gets_every_asset_of_a_large_simulated_catalog():
    """The simulator orders unscrolled pages by relevance, as the real API does: the first request
    must already be a scroll (blank scroll_id) or the id cursor skips assets."""
    from wwc_pipeline.config import PortalConfig
    from wwc_pipeline.http import HttpClient
    from wwc_pipeline.simulator import GeneratedCatalog, PortalSimulator

    with PortalSimulator() as sim:
        portal = sim.add_portal(platform="socrata", catalog=GeneratedCatalog(size=2500, seed=9))
        config = PortalConfig(platform="socrata", url=portal.url)
        with HttpClient(min_interval=0) as client:
            pages = list(socrata.harvest(config, client))
    ids = [record.dataset_id for page in pages for record in page.records]
    assert len(ids) == len(set(ids))
    assert len(ids) == pages[0].total_hint
    assert sum(record.is_dataset for page in pages for record in page.records) == 2500


def test_sample_rows_wait_out_a_429():
    """Row samples go through the client's one retry policy (Retry-After honoured)."""
    from wwc_pipeline.config import PortalConfig
    from wwc_pipeline.simulator import Faults, GeneratedCatalog, PortalSimulator

    with PortalSimulator() as sim:
        portal = sim.add_portal(
            platform="socrata",
            catalog=GeneratedCatalog(size=5, seed=2),
            faults=Faults(status_429_first_n=2, retry_after_s=0),
        )
        config = PortalConfig(platform="socrata", url=portal.url)
        with HttpClient(min_interval=0, backoff=0.01) as client:
            record = next(r for page in socrata.harvest(config, client) for r in page.records if r.is_dataset)
            portal.set_faults(Faults(status_429_first_n=2, retry_after_s=0))
            rows = socrata.sample_rows(config, client, record, 10)
        statuses = [request.status for request in portal.requests if "/resource/" in request.path]
    assert rows and isinstance(rows[0], dict)
    assert statuses[:2] == [429, 429]
