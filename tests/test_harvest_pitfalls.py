"""The pitfalls PLATFORMS.md collects from real issues, replayed against small loopback fakes.

Each fake answers one request the way a misbehaving portal did (a 202 instead of a 200, an
empty page that still counts items, a truncated feed, a quota 429...). The harvest must get
every dataset, or fail with one line naming the URL, never pass quietly with fewer datasets.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import wwc_pipeline.connectors.ckan as ckan
import wwc_pipeline.connectors.dcat as dcat
import wwc_pipeline.connectors.opendatasoft as ods
import wwc_pipeline.connectors.socrata as socrata

from wwc_pipeline.config import PortalConfig
from wwc_pipeline.http import HttpClient, HttpError
from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.paging import PagingError

TOKEN = "pitfall-token-8c41d2"


@dataclass
class Reply:
    status: int = 200
    body: object = None  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fake:
    """A loopback portal: `app(path, query)` answers each GET; `seen` keeps (path, query, headers),
    header names in lower case."""

    app: Callable[[str, dict[str, str]], Reply] = lambda path, query: Reply(404, {"error": "no app"})
    seen: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    url: str = ""
    port: int = 0

    def paths(self) -> list[str]:
        return [path for path, _query, _headers in self.seen]


@pytest.fixture
def fake() -> Iterator[Fake]:
    portal = Fake()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
            portal.seen.append((parts.path, query, {k.lower(): v for k, v in self.headers.items()}))
            reply = portal.app(parts.path, query)
            body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
            self.send_response(reply.status)
            for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    portal.port = server.server_address[1]
    portal.url = f"http://127.0.0.1:{portal.port}"
    yield portal
    server.shutdown()
    server.server_close()


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def client(waits: list[float]) -> Iterator[HttpClient]:
    with HttpClient(max_attempts=3, backoff=0.01, max_wait=3, min_interval=0, sleep=waits.append) as http:
        yield http


def config(fake: Fake, platform: str, **extra: object) -> PortalConfig:
    return PortalConfig(platform=platform, url=fake.url, **extra)


def harvest_all(connector, portal: PortalConfig, client: HttpClient):
    pages = list(connector.harvest(portal, client))
    return [record for page in pages for record in page.records], pages


def warnings_of(pages) -> list[str]:
    return [warning for page in pages for warning in page.warnings]


def assert_one_line_naming(error: BaseException, url_part: str) -> None:
    message = str(error)
    assert "\n" not in message and url_part in message and TOKEN not in message


# ---------------------------------------------------------------- Socrata Discovery API


def asset(n: int) -> dict:
    return {
        "resource": {"id": f"aaaa-{n:04d}", "name": f"Asset {n}", "type": "dataset"},
        "classification": {"domain_metadata": []},
        "metadata": {"domain": "example"},
    }


def discovery_app(assets: list[dict], total: int | None = None) -> Callable[[str, dict], Reply]:
    """The Discovery API's scroll: results after `scroll_id` by id, `limit` of them."""

    def app(path: str, query: dict[str, str]) -> Reply:
        if path != "/api/catalog/v1":
            return Reply(404, {"error": "no such path"})
        after = query.get("scroll_id", "")
        rest = [item for item in assets if item["resource"]["id"] > after]
        count = len(assets) if total is None else total
        return Reply(body={"results": rest[: int(query["limit"])], "resultSetSize": count, "timings": {}})

    return app


def test_socrata_202_request_processing_is_waited_out(fake: Fake, client: HttpClient) -> None:
    scroll = discovery_app([asset(n) for n in range(25)])
    calls: list[int] = []

    def app(path: str, query: dict[str, str]) -> Reply:
        calls.append(1)
        if len(calls) == 1:
            return Reply(202, {"message": "Request processing, retry"})
        return scroll(path, query)

    fake.app = app
    records, _ = harvest_all(socrata, config(fake, "socrata"), client)
    assert len(records) == 25


@pytest.mark.parametrize(
    "body",
    [
        {"resultSetSize": 3, "timings": {}},
        {"results": None, "resultSetSize": 3},
        {"results": {"resource": {"id": "aaaa-0001"}}, "resultSetSize": 1},
        {"error": "Unrecognized parameter domain"},
    ],
    ids=["results-missing", "results-null", "results-not-a-list", "error-in-200"],
)
def test_socrata_200_without_a_results_list_fails_clearly(fake: Fake, client: HttpClient, body) -> None:
    fake.app = lambda path, query: Reply(body=body)
    with pytest.raises(PagingError, match="no list of items where one was expected") as caught:
        harvest_all(socrata, config(fake, "socrata"), client)
    assert_one_line_naming(caught.value, f"{fake.url}/api/catalog/v1?")


def test_socrata_empty_first_page_while_the_server_counts_assets_fails(
    fake: Fake, client: HttpClient
) -> None:
    """A parameter the API does not know filters silently; "0 datasets" would be a wrong score."""
    fake.app = lambda path, query: Reply(body={"results": [], "resultSetSize": 40, "timings": {}})
    with pytest.raises(PagingError, match="lists no items although the server counts 40") as caught:
        harvest_all(socrata, config(fake, "socrata"), client)
    assert_one_line_naming(caught.value, "/api/catalog/v1?")


def test_socrata_domain_with_no_assets_warns(fake: Fake, client: HttpClient) -> None:
    fake.app = discovery_app([])
    records, pages = harvest_all(socrata, config(fake, "socrata"), client)
    assert records == [] and len(pages) == 1
    assert any(f"no assets for domains=127.0.0.1:{fake.port}" in warning for warning in warnings_of(pages))


def test_socrata_result_set_size_drift_is_reported_either_way(fake: Fake, client: HttpClient) -> None:
    assets = [asset(n) for n in range(25)]
    fake.app = discovery_app(assets, total=30)  # counts more than it serves
    records, pages = harvest_all(socrata, config(fake, "socrata"), client)
    assert len(records) == 25
    assert "server counts 30 items, paging returned 25" in warnings_of(pages)
    fake.app = discovery_app(assets, total=20)  # counts fewer: paging goes on while pages are full
    records, pages = harvest_all(socrata, config(fake, "socrata"), client)
    assert len(records) == 25
    assert "server counts 20 items, paging returned 25" in warnings_of(pages)


def test_socrata_token_never_reaches_logs_or_errors(
    fake: Fake, client: HttpClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WWC_PITFALL_TOKEN", TOKEN)
    portal = config(fake, "socrata", app_token_env="WWC_PITFALL_TOKEN")
    scroll = discovery_app([asset(n) for n in range(1500)])
    calls: list[str] = []

    def app(path: str, query: dict[str, str]) -> Reply:
        calls.append(path)
        if path.startswith("/resource/"):
            return Reply(
                403, {"code": "forbidden", "error": True, "message": f"App token {TOKEN} is invalid"}
            )
        if len(calls) == 1:
            return Reply(429, {"error": f"slow down, {TOKEN}"}, {"Retry-After": "0"})
        if query.get("scroll_id"):
            return Reply(400, {"error": f"Invalid app token {TOKEN}"})
        return scroll(path, query)

    fake.app = app
    caplog.set_level(logging.DEBUG)  # every logger, urllib3's request lines included
    with pytest.raises(HttpError) as harvest_error:
        harvest_all(socrata, portal, client)
    record = DatasetRecord("socrata", None, "abcd-1234")
    with pytest.raises(HttpError) as sample_error:
        socrata.sample_rows(portal, client, record, 5)
    assert all(headers.get("x-app-token") == TOKEN for path, _q, headers in fake.seen if "catalog" in path)
    assert_one_line_naming(harvest_error.value, "/api/catalog/v1?")
    assert "Invalid app token ***" in str(harvest_error.value)
    assert_one_line_naming(sample_error.value, "/resource/abcd-1234.json")
    assert "App token *** is invalid" in str(sample_error.value)
    logged = [rec.getMessage() for rec in caplog.records]
    assert any("slow down, ***" in message for message in logged)
    assert not [message for message in logged if TOKEN in message]


def test_socrata_sample_rows_redirected_off_host_drops_the_token(
    fake: Fake, client: HttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WWC_PITFALL_TOKEN", TOKEN)
    rows = [{"ward": str(n)} for n in range(3)]

    def app(path: str, query: dict[str, str]) -> Reply:
        if path == "/resource/abcd-1234.json":
            return Reply(302, b"", {"Location": f"http://localhost:{fake.port}/moved/abcd-1234.json"})
        return Reply(body=rows)

    fake.app = app
    # localhost stands in for another host; as it is loopback, the operator must allow it by name
    portal = config(fake, "socrata", app_token_env="WWC_PITFALL_TOKEN", allow_internal_hosts=["localhost"])
    assert socrata.sample_rows(portal, client, DatasetRecord("socrata", None, "abcd-1234"), 3) == rows
    (_, _, first), (_, _, moved) = fake.seen
    assert first["x-app-token"] == TOKEN
    assert moved["host"] == f"localhost:{fake.port}" and "x-app-token" not in moved


# ---------------------------------------------------------------- CKAN Action API


def envelope(result: object) -> dict:
    return {"help": "h", "success": True, "result": result}


def html_page() -> Reply:
    return Reply(200, b"<!doctype html><html><body>Portal home</body></html>", {"Content-Type": "text/html"})


def test_ckan_html_page_with_200_moves_to_the_next_action_path(fake: Fake, client: HttpClient) -> None:
    packages = [{"id": f"p{n}", "resources": []} for n in range(3)]

    def app(path: str, query: dict[str, str]) -> Reply:
        if path == "/api/action/package_search":
            return Reply(body=envelope({"count": 3, "results": packages}))
        return html_page()

    fake.app = app
    records, _ = harvest_all(ckan, config(fake, "ckan"), client)
    assert [r.dataset_id for r in records] == ["p0", "p1", "p2"]


def test_ckan_html_everywhere_says_so_with_the_url(fake: Fake, client: HttpClient) -> None:
    fake.app = lambda path, query: html_page()
    with pytest.raises(HttpError, match="returned an HTML page, not JSON") as caught:
        harvest_all(ckan, config(fake, "ckan"), client)
    assert_one_line_naming(caught.value, "/api/action/package_search?")


def test_ckan_truncated_body_is_reported_not_hidden_by_a_fallback_404(fake: Fake, client: HttpClient) -> None:
    whole = json.dumps(envelope({"count": 2, "results": [{"id": "a"}, {"id": "b"}]})).encode()

    def app(path: str, query: dict[str, str]) -> Reply:
        if path == "/api/3/action/package_search":
            return Reply(body=whole[: len(whole) // 2])
        return Reply(404, {"success": False, "error": {"message": "Not found"}})

    fake.app = app
    with pytest.raises(HttpError, match=r"stops early \(truncated body") as caught:
        harvest_all(ckan, config(fake, "ckan"), client)
    assert_one_line_naming(caught.value, "/api/3/action/package_search?")
    assert "/api/action/" not in fake.paths()


def test_ckan_success_false_names_the_action_url(fake: Fake, client: HttpClient) -> None:
    error = {"__type": "Search Query Error", "message": "Search Query is invalid: sort"}
    fake.app = lambda path, query: Reply(body={"help": "h", "success": False, "error": error})
    with pytest.raises(HttpError, match="success: false: Search Query is invalid: sort") as caught:
        harvest_all(ckan, config(fake, "ckan"), client)
    assert_one_line_naming(caught.value, f"{fake.url}/api/3/action/package_search")


def test_ckan_count_without_results_fails(fake: Fake, client: HttpClient) -> None:
    fake.app = lambda path, query: Reply(body=envelope({"count": 120, "results": []}))
    with pytest.raises(PagingError, match="lists no items although the server counts 120"):
        harvest_all(ckan, config(fake, "ckan"), client)


# ---------------------------------------------------------------- DCAT-US data.json / Hub


def pod(entries: list[dict]) -> dict:
    return {"conformsTo": "https://project-open-data.cio.gov/v1.1/schema", "dataset": entries}


def test_dcat_truncated_data_json_is_reported_not_the_hub_404(fake: Fake, client: HttpClient) -> None:
    whole = json.dumps(pod([{"identifier": f"d{n}", "title": "t"} for n in range(50)])).encode()

    def app(path: str, query: dict[str, str]) -> Reply:
        return Reply(body=whole[:-40]) if path == "/data.json" else Reply(404, {"error": "not found"})

    fake.app = app
    with pytest.raises(HttpError, match=r"stops early \(truncated body") as caught:
        harvest_all(dcat, config(fake, "dcat"), client)
    assert_one_line_naming(caught.value, f"{fake.url}/data.json")
    assert set(fake.paths()) == {"/data.json"}


def test_dcat_keeps_both_entries_of_a_duplicated_identifier(fake: Fake, client: HttpClient) -> None:
    """METRICS.md: a catalog may list the same id twice; evaluate keeps both, so the harvest must."""
    entries = [
        {"identifier": "https://x.gov/d/1", "title": "First"},
        {"identifier": "https://x.gov/d/2", "title": "Second"},
        {"identifier": "https://x.gov/d/1", "title": "First, again"},
    ]
    fake.app = lambda path, query: Reply(body=pod(entries))
    records, pages = harvest_all(dcat, config(fake, "dcat"), client)
    assert [(r.dataset_id, r.title) for r in records] == [(e["identifier"], e["title"]) for e in entries]
    assert warnings_of(pages) == []


def test_dcat_modified_as_a_repeating_duration_does_not_break_the_harvest(
    fake: Fake, client: HttpClient
) -> None:
    entries = [
        {"identifier": "d1", "title": "Daily", "modified": "R/P1D"},
        {"identifier": "d2", "title": "Interval", "modified": "R/2015-01-01/P1M"},
        {"identifier": "d3", "title": "Dated", "modified": "2024-05-06"},
    ]
    fake.app = lambda path, query: Reply(body=pod(entries))
    records, _ = harvest_all(dcat, config(fake, "dcat"), client)
    assert [r.data_modified_at is None for r in records] == [True, True, False]


def test_dcat_later_page_without_identifiers_is_not_taken_for_a_repeat(
    fake: Fake, client: HttpClient
) -> None:
    first = [{"identifier": f"d{n}", "title": f"D {n}"} for n in range(99)] + [{"title": "No id"}]
    second = [{"title": f"No id {n}"} for n in range(30)]

    def app(path: str, query: dict[str, str]) -> Reply:
        return Reply(body=pod({"1": first, "2": second}.get(query.get("page", "1"), [])))

    fake.app = app
    records, pages = harvest_all(dcat, config(fake, "dcat"), client)
    assert len(records) == 130 and warnings_of(pages) == []


# ---------------------------------------------------------------- OpenDataSoft Explore v2.1


def ods_dataset(n: int) -> dict:
    return {"dataset_id": f"ds-{n:05d}", "metas": {"default": {"title": f"DS {n}"}}, "fields": []}


def test_ods_429_backs_off_until_the_quota_resets_capped(
    fake: Fake, client: HttpClient, waits: list[float]
) -> None:
    quota = {"errorcode": 10005, "error": "You have exceeded the requests limit for anonymous users."}
    reset = {"X-RateLimit-Reset": str(int(time.time()) + 3600), "X-RateLimit-Remaining": "0"}
    calls: list[int] = []

    def app(path: str, query: dict[str, str]) -> Reply:
        calls.append(1)
        if len(calls) == 1:
            return Reply(429, quota, reset)
        return Reply(body={"total_count": 2, "results": [ods_dataset(0), ods_dataset(1)]})

    fake.app = app
    records, _ = harvest_all(ods, config(fake, "opendatasoft"), client)
    assert len(records) == 2
    assert waits == [3]  # until the reset, capped at the client's max_wait (not the 0.01 s backoff)


def test_ods_refusing_an_offset_below_10000_completes_from_the_export(fake: Fake, client: HttpClient) -> None:
    """The 10,000 window is not documented: a domain refusing an earlier offset still gets harvested."""
    datasets = [ods_dataset(n) for n in range(650)]

    def app(path: str, query: dict[str, str]) -> Reply:
        if path == "/api/explore/v2.1/catalog/exports/json":
            return Reply(body=datasets)
        offset, limit = int(query["offset"]), int(query["limit"])
        if offset + limit > 500:
            message = f"Invalid value for sum of offset + limit API parameter: {offset + limit}"
            return Reply(400, {"error_code": "InvalidRESTParameterError", "message": message})
        return Reply(body={"results": datasets[offset : offset + limit]})  # no total_count

    fake.app = app
    records, pages = harvest_all(ods, config(fake, "opendatasoft"), client)
    assert [r.dataset_id for r in records] == [d["dataset_id"] for d in datasets]
    assert fake.paths()[-1] == "/api/explore/v2.1/catalog/exports/json"


def test_ods_invalid_parameter_on_the_first_page_is_an_error(fake: Fake, client: HttpClient) -> None:
    body = {"error_code": "InvalidRESTParameterError", "message": "Unknown parameter: limit"}
    fake.app = lambda path, query: Reply(400, body)
    with pytest.raises(HttpError, match="HTTP 400: Unknown parameter: limit") as caught:
        harvest_all(ods, config(fake, "opendatasoft"), client)
    assert_one_line_naming(caught.value, "/api/explore/v2.1/catalog/datasets?")
    assert "/api/explore/v2.1/catalog/exports/json" not in fake.paths()
