"""CKAN, DCAT and OpenDataSoft harvests against tiny loopback servers that enforce each API's limits.

Each fake answers like the documented API (PLATFORMS.md sections 2-4): CKAN cuts `rows` to
its maximum without an error, ODS answers 400 past `limit` 100 or `offset + limit` 10,000,
Hub serves its feed at /api/feed/dcat-us/1.1.json. No test depends on the portal simulator.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import wwc_pipeline.connectors.ckan as ckan
import wwc_pipeline.connectors.dcat as dcat
import wwc_pipeline.connectors.opendatasoft as ods

from wwc_pipeline.config import PortalConfig
from wwc_pipeline.http import HttpClient, HttpError
from wwc_pipeline.model import Column, DatasetRecord, Distribution
from wwc_pipeline.paging import PagingError

Answer = tuple[int, object]  # (status, JSON-able body, or bytes sent as they are)


@dataclass
class FakePortal:
    """A loopback HTTP server; `app(path, query)` answers each GET, `requests` records them."""

    app: Callable[[str, dict[str, str]], Answer] = lambda path, query: (404, {"error": "no app"})
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def fake() -> Iterator[FakePortal]:
    portal = FakePortal()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
            portal.requests.append((parts.path, query))
            status, body = portal.app(parts.path, query)
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    portal.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield portal
    server.shutdown()
    server.server_close()


@pytest.fixture
def client() -> Iterator[HttpClient]:
    with HttpClient(max_attempts=2, backoff=0, min_interval=0, timeout=(2, 5), sleep=lambda _: None) as http:
        yield http


def portal_config(fake: FakePortal, platform: str, **extra: object) -> PortalConfig:
    return PortalConfig(platform=platform, url=fake.url, **extra)


def harvested(connector, portal: PortalConfig, client: HttpClient) -> tuple[list[DatasetRecord], list]:
    pages = list(connector.harvest(portal, client))
    return [record for page in pages for record in page.records], pages


# ---------------------------------------------------------------- CKAN


def ckan_packages(count: int) -> list[dict]:
    return [{"id": f"pkg-{n:05d}", "title": f"Dataset {n}", "resources": []} for n in range(count)]


def ckan_search(packages: list[dict], rows_max: int = 1000, prefix: str = "/api/3/action/"):
    """package_search with CKAN's behaviour: sorted by the `sort` asked for, `rows` cut to rows_max."""

    def app(path: str, query: dict[str, str]) -> Answer:
        if path != prefix + "package_search":
            return 404, {"success": False, "error": {"__type": "Not Found Error", "message": "Not found"}}
        assert query.get("sort") == "id asc"
        rows, start = min(int(query.get("rows", 10)), rows_max), int(query.get("start", 0))
        ordered = sorted(packages, key=lambda package: package["id"])
        result = {"count": len(packages), "results": ordered[start : start + rows]}
        return 200, {"help": "h", "success": True, "result": result}

    return app


def test_ckan_pages_by_id_with_rows_at_most_1000(fake: FakePortal, client: HttpClient) -> None:
    fake.app = ckan_search(ckan_packages(2300))
    records, pages = harvested(ckan, portal_config(fake, "ckan"), client)
    assert len(records) == 2300 and len({r.dataset_id for r in records}) == 2300
    assert [len(page.records) for page in pages] == [1000, 1000, 300]
    assert all(int(query["rows"]) <= 1000 for _, query in fake.requests)
    assert [int(query["start"]) for _, query in fake.requests] == [0, 1000, 2000]
    assert pages[0].total_hint == 2300 and records[0].portal == urlsplit(fake.url).netloc


def test_ckan_follows_a_site_that_clamps_rows_lower(fake: FakePortal, client: HttpClient) -> None:
    fake.app = ckan_search(ckan_packages(700), rows_max=250)
    records, pages = harvested(ckan, portal_config(fake, "ckan"), client)
    assert len(records) == 700 and len({r.dataset_id for r in records}) == 700
    assert [int(query["start"]) for _, query in fake.requests] == [0, 250, 500]


def test_ckan_falls_back_to_the_unversioned_action_path(fake: FakePortal, client: HttpClient) -> None:
    fake.app = ckan_search(ckan_packages(5), prefix="/api/action/")
    records, _ = harvested(ckan, portal_config(fake, "ckan"), client)
    assert len(records) == 5
    assert [path for path, _ in fake.requests] == [
        "/api/3/action/package_search",
        "/api/action/package_search",
    ]


def test_ckan_drops_a_dataset_seen_on_an_earlier_page(fake: FakePortal, client: HttpClient) -> None:
    """A dataset added mid-crawl shifts the next page by one: its first item repeats."""
    packages = ckan_packages(1500)
    search = ckan_search(packages)

    def app(path: str, query: dict[str, str]) -> Answer:
        answer = search(path, query)
        if query.get("start") == "0":
            packages.append({"id": "pkg-00000-new", "title": "Added", "resources": []})
        return answer

    fake.app = app
    records, pages = harvested(ckan, portal_config(fake, "ckan"), client)
    ids = [record.dataset_id for record in records]
    assert len(ids) == len(set(ids)) == 1500
    assert any("seen on an earlier page" in warning for page in pages for warning in page.warnings)


def test_ckan_aborts_when_the_portal_ignores_start(fake: FakePortal, client: HttpClient) -> None:
    search = ckan_search(ckan_packages(2500))
    fake.app = lambda path, query: search(path, {**query, "start": "0"})
    with pytest.raises(PagingError, match="identical|already seen"):
        harvested(ckan, portal_config(fake, "ckan"), client)
    assert len(fake.requests) == 2


def test_ckan_success_false_in_a_200_is_an_error(fake: FakePortal, client: HttpClient) -> None:
    error = {"__type": "Search Error", "message": "Solr returned an error"}
    fake.app = lambda path, query: (200, {"help": "h", "success": False, "error": error})
    with pytest.raises(HttpError, match="success: false: Solr returned an error"):
        harvested(ckan, portal_config(fake, "ckan"), client)
    assert len(fake.requests) == 1  # an answer from the API: no fallback to /api/action/


def test_ckan_sample_rows_from_the_datastore(fake: FakePortal, client: HttpClient) -> None:
    resources = [{"id": "r-file", "datastore_active": False}, {"id": "r-store", "datastore_active": True}]
    rows = [{"_id": n, "name": f"row {n}", "_full_text": "x"} for n in range(5)]

    def app(path: str, query: dict[str, str]) -> Answer:
        if path == "/api/3/action/package_show" and query == {"id": "pkg-1"}:
            return 200, {"success": True, "result": {"id": "pkg-1", "resources": resources}}
        if path == "/api/3/action/datastore_search" and query["resource_id"] == "r-store":
            limit = int(query["limit"])
            fields = [{"id": "_id", "type": "int"}, {"id": "name", "type": "text"}]
            fields.append({"id": "n", "type": "int4"})
            return 200, {"success": True, "result": {"records": rows[:limit], "fields": fields, "total": 5}}
        return 404, {"success": False, "error": {"message": "Not found"}}

    fake.app = app
    record = DatasetRecord("ckan", None, "pkg-1", distributions=[Distribution(format="datastore")])
    sampled = ckan.sample_rows(portal_config(fake, "ckan"), client, record, 3)
    assert sampled == [{"name": "row 0"}, {"name": "row 1"}, {"name": "row 2"}]
    # the DataStore's field types travel with the rows (the package lists none); internal ones dropped
    assert sampled.columns == [Column("name", datatype="text"), Column("n", datatype="int4")]
    plain = DatasetRecord("ckan", None, "pkg-2", distributions=[Distribution(format="CSV")])
    fake.requests.clear()
    assert ckan.sample_rows(portal_config(fake, "ckan"), client, plain, 3) is None
    assert fake.requests == []


# ---------------------------------------------------------------- DCAT


def dcat_entries(count: int, start: int = 0) -> list[dict]:
    return [
        {"identifier": f"https://example.gov/d/{n}", "title": f"D {n}"} for n in range(start, start + count)
    ]


def catalog(entries: list[dict]) -> dict:
    return {"conformsTo": "https://project-open-data.cio.gov/v1.1/schema", "dataset": entries}


def test_dcat_one_document_is_one_request(fake: FakePortal, client: HttpClient) -> None:
    fake.app = lambda path, query: (200, catalog(dcat_entries(150))) if path == "/data.json" else (404, {})
    records, pages = harvested(dcat, portal_config(fake, "dcat"), client)
    assert len(records) == 150 and pages[0].total_hint == 150
    assert fake.requests == [("/data.json", {})]


def test_dcat_follows_ckanext_dcat_pages_until_empty(fake: FakePortal, client: HttpClient) -> None:
    everything = dcat_entries(250)

    def app(path: str, query: dict[str, str]) -> Answer:
        number = int(query.get("page", 1))
        return 200, catalog(everything[(number - 1) * 100 : number * 100])

    fake.app = app
    records, _ = harvested(dcat, portal_config(fake, "dcat"), client)
    assert [r.dataset_id for r in records] == [entry["identifier"] for entry in everything]
    assert [query.get("page") for _, query in fake.requests] == [None, "2", "3", "4"]


def test_dcat_producer_that_ignores_page_is_read_once(fake: FakePortal, client: HttpClient) -> None:
    fake.app = lambda path, query: (200, catalog(dcat_entries(200)))
    records, pages = harvested(dcat, portal_config(fake, "dcat"), client)
    assert len(records) == 200 and not any(page.warnings for page in pages)
    assert len(fake.requests) == 2  # the probe of page 2 came back identical


def test_dcat_falls_back_to_the_hub_feed(fake: FakePortal, client: HttpClient) -> None:
    def app(path: str, query: dict[str, str]) -> Answer:
        if path == "/api/feed/dcat-us/1.1.json":
            return 200, catalog(dcat_entries(100))
        return 404, {"error": "not found"}

    fake.app = app
    records, _ = harvested(dcat, portal_config(fake, "dcat"), client)
    assert len(records) == 100
    assert [path for path, _ in fake.requests] == [
        "/data.json",
        "/api/feed/dcat-us/1.1.json",
    ]  # Hub: no paging


def test_dcat_catalog_path_and_pod_1_0_list(fake: FakePortal, client: HttpClient) -> None:
    pod = [{"identifier": "https://example.gov/data.json", "title": "Project Open Data"}, *dcat_entries(3)]
    fake.app = lambda path, query: (200, pod) if path == "/catalog/pod.json" else (404, {})
    records, _ = harvested(dcat, portal_config(fake, "dcat", catalog_path="catalog/pod.json"), client)
    assert [r.is_dataset for r in records] == [False, True, True, True]


def test_dcat_truncated_feed_is_an_error(fake: FakePortal, client: HttpClient) -> None:
    body = json.dumps(catalog(dcat_entries(40))).encode()
    fake.app = lambda path, query: (200, body[: len(body) // 2])
    with pytest.raises(HttpError, match="invalid JSON"):
        harvested(dcat, portal_config(fake, "dcat", catalog_path="/data.json"), client)


def test_dcat_json_that_is_no_catalog_is_named(fake: FakePortal, client: HttpClient) -> None:
    fake.app = lambda path, query: (200, {"error": "maintenance"})
    with pytest.raises(HttpError, match="is not a DCAT-US data.json"):
        harvested(dcat, portal_config(fake, "dcat"), client)
    assert len(fake.requests) == 1


# ---------------------------------------------------------------- OpenDataSoft


def ods_datasets(count: int) -> list[dict]:
    return [
        {"dataset_id": f"ds-{n:05d}", "metas": {"default": {"title": f"DS {n}"}}, "fields": []}
        for n in range(count)
    ]


def ods_api(datasets: list[dict], with_total: bool = True):
    """Explore v2.1 with its documented limits: 400 on limit > 100 or offset + limit > 10,000."""

    def app(path: str, query: dict[str, str]) -> Answer:
        if path == "/api/explore/v2.1/catalog/exports/json":
            assert "offset" not in query
            return 200, datasets
        if path != "/api/explore/v2.1/catalog/datasets":
            return 404, {"message": "not found"}
        limit, offset = int(query.get("limit", 10)), int(query.get("offset", 0))
        if limit > 100:
            return 400, {"error_code": "InvalidRESTParameterError", "message": f"limit {limit} > 100"}
        if offset + limit > 10_000:
            message = f"Invalid value for sum of offset + limit API parameter: {offset + limit}"
            return 400, {"error_code": "InvalidRESTParameterError", "message": message}
        body: dict = {"results": datasets[offset : offset + limit]}
        if with_total:
            body["total_count"] = len(datasets)
        return 200, body

    return app


def test_ods_pages_by_100(fake: FakePortal, client: HttpClient) -> None:
    fake.app = ods_api(ods_datasets(250))
    records, pages = harvested(ods, portal_config(fake, "opendatasoft"), client)
    assert len(records) == 250 and [len(page.records) for page in pages] == [100, 100, 50]
    assert [(q["limit"], q["offset"]) for _, q in fake.requests] == [
        ("100", "0"),
        ("100", "100"),
        ("100", "200"),
    ]
    assert (
        records[0].distributions[0].url
        == f"{fake.url}/api/explore/v2.1/catalog/datasets/ds-00000/exports/csv"
    )


def test_ods_large_catalog_uses_the_export(fake: FakePortal, client: HttpClient) -> None:
    fake.app = ods_api(ods_datasets(10_050))
    records, _ = harvested(ods, portal_config(fake, "opendatasoft"), client)
    assert len(records) == len({r.dataset_id for r in records}) == 10_050
    assert [path for path, _ in fake.requests] == [
        "/api/explore/v2.1/catalog/datasets",
        "/api/explore/v2.1/catalog/exports/json",
    ]


def test_ods_window_full_without_count_completes_from_the_export(
    fake: FakePortal, client: HttpClient
) -> None:
    fake.app = ods_api(ods_datasets(10_020), with_total=False)
    records, pages = harvested(ods, portal_config(fake, "opendatasoft"), client)
    assert len(records) == len({r.dataset_id for r in records}) == 10_020
    assert len(pages) == 101 and len(pages[-1].records) == 20  # 100 pages of 100, then the rest
    assert not any(page.warnings for page in pages)  # the export reached what the pages could not
    assert all(int(q["offset"]) + int(q["limit"]) <= 10_000 for _, q in fake.requests if "limit" in q)


def test_ods_aborts_when_offset_is_ignored(fake: FakePortal, client: HttpClient) -> None:
    api = ods_api(ods_datasets(300))
    fake.app = lambda path, query: api(path, {**query, "offset": "0"})
    with pytest.raises(PagingError):
        harvested(ods, portal_config(fake, "opendatasoft"), client)


def test_ods_error_message_reaches_the_user(fake: FakePortal, client: HttpClient) -> None:
    fake.app = lambda path, query: (400, {"error_code": "ODSQLError", "message": "Unknown field"})
    with pytest.raises(HttpError, match="HTTP 400: Unknown field"):
        harvested(ods, portal_config(fake, "opendatasoft"), client)


def test_ods_sample_rows_is_one_request_within_the_limit(fake: FakePortal, client: HttpClient) -> None:
    rows = [{"station": f"s{n}", "count": n} for n in range(500)]

    def app(path: str, query: dict[str, str]) -> Answer:
        assert path == "/api/explore/v2.1/catalog/datasets/bike%20counts/records"
        limit, offset = int(query["limit"]), int(query.get("offset", 0))
        if limit > 100:
            return 400, {"message": "limit > 100"}
        return 200, {"total_count": len(rows), "results": rows[offset : offset + limit]}

    fake.app = app
    record = DatasetRecord("opendatasoft", None, "bike counts")
    sampled = ods.sample_rows(portal_config(fake, "opendatasoft"), client, record, 150)
    assert sampled == rows[:100]  # the records endpoint's maximum; a sample needs no paging
    assert len(fake.requests) == 1
    assert ods.sample_rows(portal_config(fake, "opendatasoft"), client, record, 7) == rows[:7]


def test_dcat_has_no_rows_to_sample(client: HttpClient) -> None:
    portal = PortalConfig(platform="dcat", url="http://127.0.0.1:9")
    assert dcat.sample_rows(portal, client, DatasetRecord("dcat", None, "x"), 10) is None
