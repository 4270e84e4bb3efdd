"""links.reachable: a loopback server (200, 404, refused) and a fake client for the choice rules."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from wwc_pipeline.checks.links import link_of, links_reachable, links_to_probe

from wwc_pipeline.config import PortalConfig
from wwc_pipeline.http import HttpClient, LinkProbe
from wwc_pipeline.model import DatasetRecord, Distribution
from wwc_pipeline.results import PortalContext, Status

AS_OF = datetime(2025, 1, 1, tzinfo=UTC)


class Handler(BaseHTTPRequestHandler):
    def answer(self, body: bool) -> None:
        code = 200 if self.path.startswith("/ok") else 404
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        if body:
            self.wfile.write(b"{}")

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
        self.answer(body=False)

    def do_GET(self) -> None:  # noqa: N802
        self.answer(body=True)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dataset(dataset_id: str, url: str | None = None, landing: str | None = None, **kwargs) -> DatasetRecord:
    distributions = [Distribution(format="csv", url=url)] if url else []
    return DatasetRecord(
        "dcat",
        "example",
        dataset_id,
        title=f"Dataset {dataset_id}",
        distributions=distributions,
        landing_page=landing,
        **kwargs,
    )


def context(client, check_links: int = 20) -> PortalContext:
    config = PortalConfig(platform="dcat", url="http://127.0.0.1", check_links=check_links)
    return PortalContext("dcat", "127.0.0.1", AS_OF, client=client, portal_config=config)


class FakeClient:
    """Answers from a table; fails the test on a URL it was not told about."""

    def __init__(self, answers: dict[str, LinkProbe]):
        self.answers = answers
        self.asked: list[str] = []

    def probe(self, url: str) -> LinkProbe:
        self.asked.append(url)
        return self.answers[url]


def test_loopback_ok_missing_and_refused(server_url):
    refused = f"http://127.0.0.1:{closed_port()}/gone.csv"
    records = [
        dataset("a", f"{server_url}/ok.csv"),
        dataset("b", f"{server_url}/missing.csv"),
        dataset("c", refused),
        dataset("d", None, landing=f"{server_url}/ok/page"),
    ]
    client = HttpClient(backoff=0, min_interval=0, probe_attempts=1, sleep=lambda _s: None)
    with client:
        results = links_reachable(records, context(client))
    portal, per_dataset = results[0], {r.dataset_id: r for r in results[1:]}
    assert portal.dataset_id is None
    assert portal.value["probed"] == 4 and portal.value["reachable"] == 2
    assert portal.value["score"] == 50.0
    assert portal.status is Status.FAIL
    assert {b["dataset_id"] for b in portal.value["broken"]} == {"b", "c"}
    assert per_dataset["a"].status is Status.PASS and per_dataset["d"].status is Status.PASS
    assert per_dataset["b"].status is Status.FAIL and per_dataset["b"].value["status"] == 404
    assert per_dataset["c"].status is Status.FAIL
    assert per_dataset["c"].value["status"] is None and per_dataset["c"].value["error"]


def test_fake_client_deterministic_choice_and_limit():
    records = [
        dataset("z", "https://example.org/z.csv"),
        dataset("m", "ftp://example.org/m.csv", landing="https://example.org/m"),
        dataset("b", None),  # no link: skipped, does not use up the limit
        dataset("a", "https://example.org/a.csv"),
        DatasetRecord("dcat", "example", "0-story", is_dataset=False, landing_page="https://example.org/s"),
    ]
    answers = {
        "https://example.org/a.csv": LinkProbe("https://example.org/a.csv", status=200),
        "https://example.org/m": LinkProbe("https://example.org/m", status=301),
        "https://example.org/z.csv": LinkProbe("https://example.org/z.csv", status=500),
    }
    client = FakeClient(answers)
    results = links_reachable(records, context(client, check_links=2))
    assert client.asked == ["https://example.org/a.csv", "https://example.org/m"]
    assert results[0].value["score"] == 100.0 and results[0].status is Status.PASS
    assert [r.dataset_id for r in results[1:]] == ["a", "m"]


def test_link_of_prefers_distribution_then_landing_page():
    assert link_of(dataset("x", "https://e.org/x.csv", landing="https://e.org/x")) == "https://e.org/x.csv"
    assert link_of(dataset("x", "mailto:someone@e.org", landing="https://e.org/x")) == "https://e.org/x"
    assert link_of(dataset("x", None, landing="not a url")) is None
    assert [
        r.dataset_id for r, _ in links_to_probe([dataset("b", "http://e.org/b"), dataset("a", None)], 5)
    ] == ["b"]


def test_offline_disabled_and_nothing_to_probe_are_na():
    records = [dataset("a", "https://example.org/a.csv")]
    offline = links_reachable(records, context(None))
    assert offline[0].status is Status.NA and offline[0].value["score"] is None and len(offline) == 1
    disabled = links_reachable(records, context(FakeClient({}), check_links=0))
    assert disabled[0].status is Status.NA
    nothing = links_reachable([dataset("a", None)], context(FakeClient({})))
    assert nothing[0].status is Status.NA and nothing[0].value["score"] is None
