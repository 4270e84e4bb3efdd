"""HttpClient against a loopback server started in the test: retries, caps, guards, secrets."""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from wwc_pipeline.config import PortalConfig
from wwc_pipeline.http import (
    USER_AGENT,
    DeadlineError,
    HttpClient,
    HttpError,
    NotJsonError,
    rate_limit_reset_seconds,
    redact_query_text,
    retry_after_seconds,
    size_text,
    strip_secrets,
)
from wwc_pipeline.http_body import QUOTELESS_LIMIT, TextRepair

TOKEN = "tok-3f9a1c77e2"
LOCAL = ("127.0.0.1",)  # the test server: trusted, as a configured portal's own host is


class Scripted(ThreadingHTTPServer):
    """Each path answers a scripted list of replies (the last one repeats) and records requests."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes: dict[str, list[dict]] = {}
        self.seen: list[tuple[str, str, dict, bytes]] = []  # method, path with query, headers, body
        self.release = threading.Event()  # a "hang" reply waits for this

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def hits(self, path: str) -> int:
        return sum(1 for _method, seen, _headers, _body in self.seen if seen.split("?")[0] == path)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output quiet
        pass

    def _answer(self):
        server: Scripted = self.server  # type: ignore[assignment]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        server.seen.append((self.command, self.path, dict(self.headers), body))
        replies = server.routes.get(self.path.split("?")[0]) or [
            {"status": 404, "json": {"error": "no route"}}
        ]
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        if reply.get("hang"):
            server.release.wait(5)
            return
        if "drip_raw" in reply:  # the whole answer, status line included, a byte at a time
            for index in range(len(reply["drip_raw"])):
                if server.release.wait(reply["interval"]):
                    return
                try:
                    self.wfile.write(reply["drip_raw"][index : index + 1])
                except OSError:
                    return
            return
        if self.command == "HEAD" and reply.get("refuse_head"):
            reply = {"status": 405}
        payload = reply.get("body", b"")
        if "json" in reply:
            payload = json.dumps(reply["json"]).encode()
        self.send_response(reply.get("status", 200))
        headers = {"Content-Type": "application/json", **reply.get("headers", {})}
        if reply.get("content_length", True):
            headers.setdefault("Content-Length", str(reply.get("declared", len(payload))))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            if reply.get("stall"):  # send half the body, then nothing until released
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                server.release.wait(5)
                return
            self.wfile.write(payload)

    do_GET = do_POST = do_HEAD = _answer


@pytest.fixture
def server():
    httpd = Scripted()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def waits():
    return []


@pytest.fixture
def client(waits):
    with HttpClient(
        trusted_hosts=LOCAL, min_interval=0, backoff=0.01, max_wait=5, sleep=waits.append
    ) as http:
        yield http


def test_get_json_returns_parsed_body_and_identifies_itself(server, client):
    server.routes["/api/x"] = [{"json": {"results": [1, 2]}}]
    response = client.get_json(server.base + "/api/x", params={"limit": 2})
    assert response.data == {"results": [1, 2]}
    assert response.status == 200
    assert response.url == server.base + "/api/x?limit=2"
    assert response.sha256 == hashlib.sha256(json.dumps({"results": [1, 2]}).encode()).hexdigest()
    method, path, headers, _ = server.seen[0]
    assert (method, path) == ("GET", "/api/x?limit=2")
    assert headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("wwc-pipeline/")


def test_429_is_retried_honouring_retry_after(server, client, waits):
    too_many = {"status": 429, "headers": {"Retry-After": "1"}, "json": {"error": "slow down"}}
    server.routes["/api/x"] = [too_many, too_many, {"json": {"ok": True}}]
    assert client.get_json(server.base + "/api/x").data == {"ok": True}
    assert server.hits("/api/x") == 3
    assert waits == [1.0, 1.0]  # the server's Retry-After, not the 0.01 s backoff


def test_retry_after_is_capped_by_max_wait(server, waits):
    server.routes["/api/x"] = [{"status": 503, "headers": {"Retry-After": "3600"}}, {"json": []}]
    with HttpClient(trusted_hosts=LOCAL, min_interval=0, max_wait=0.5, sleep=waits.append) as http:
        assert http.get_json(server.base + "/api/x").data == []
    assert waits == [0.5]


def test_5xx_is_retried_then_gives_up_with_one_line(server, client, waits):
    server.routes["/api/catalog/v1"] = [{"status": 503, "json": {"error": "down"}}]
    with pytest.raises(HttpError) as caught:
        client.get_json(server.base + "/api/catalog/v1", params={"limit": 10})
    url = server.base + "/api/catalog/v1?limit=10"
    assert str(caught.value) == f"GET {url} failed: HTTP 503: down after 4 attempts"
    assert (caught.value.status, caught.value.attempts, caught.value.url) == (503, 4, url)
    assert server.hits("/api/catalog/v1") == 4
    assert waits == [0.01, 0.02, 0.04]  # exponential backoff


def test_4xx_is_not_retried_and_shows_the_server_message(server, client):
    server.routes["/api/x"] = [{"status": 400, "json": {"error": "offset + limit must be <= 10000"}}]
    with pytest.raises(HttpError) as caught:
        client.get_json(server.base + "/api/x")
    assert str(caught.value) == f"GET {server.base}/api/x failed: HTTP 400: offset + limit must be <= 10000"
    assert server.hits("/api/x") == 1
    assert json.loads(caught.value.body) == {"error": "offset + limit must be <= 10000"}


def test_truncated_json_is_retried_then_reported(server, client):
    server.routes["/feed.json"] = [{"body": b'{"dataset": [{"title": "a"}, {"ti'}]
    with pytest.raises(HttpError) as caught:
        client.get_json(server.base + "/feed.json")
    message = str(caught.value)
    assert "returned JSON that stops early (truncated body?" in message and message.endswith(
        "after 4 attempts"
    )
    assert "\n" not in message
    assert server.hits("/feed.json") == 4


def test_truncated_json_recovers_when_the_next_attempt_is_whole(server, client):
    server.routes["/feed.json"] = [{"body": b'{"dataset": ['}, {"json": {"dataset": []}}]
    assert client.get_json(server.base + "/feed.json").data == {"dataset": []}


def test_html_page_is_not_json_and_not_retried(server, client):
    server.routes["/data.json"] = [{"body": b"<html>Login</html>", "headers": {"Content-Type": "text/html"}}]
    with pytest.raises(NotJsonError, match="returned an HTML page, not JSON"):
        client.get_json(server.base + "/data.json")
    assert server.hits("/data.json") == 1


def test_body_shorter_than_its_content_length_is_a_broken_connection(server, client):
    server.routes["/x"] = [{"body": b'{"a": 1', "declared": 500}]
    with pytest.raises(HttpError, match="connection broke while reading the body"):
        client.get_json(server.base + "/x")


@pytest.mark.parametrize("declare_length", [True, False])
def test_oversized_body_is_refused(server, declare_length):
    server.routes["/big"] = [{"json": {"rows": ["x" * 100] * 100}, "content_length": declare_length}]
    with (
        HttpClient(trusted_hosts=LOCAL, min_interval=0, max_bytes=1000) as http,
        pytest.raises(HttpError) as caught,
    ):
        http.get_json(server.base + "/big")
    assert str(caught.value) == f"GET {server.base}/big failed: body larger than 1000 bytes"
    assert server.hits("/big") == 1


def test_size_text_names_megabytes():
    assert (size_text(50 * 1048576), size_text(1000)) == ("50 MB", "1000 bytes")


def test_read_timeout_is_retried_then_reported(server, waits):
    server.routes["/slow"] = [{"hang": True}]
    http = HttpClient(
        trusted_hosts=LOCAL, timeout=(2, 0.2), max_attempts=2, min_interval=0, sleep=waits.append
    )
    with http, pytest.raises(HttpError) as caught:
        http.get_json(server.base + "/slow")
    assert (
        str(caught.value)
        == f"GET {server.base}/slow failed: timed out (no answer within 0.2 s) after 2 attempts"
    )
    assert server.hits("/slow") == 2


def test_connection_refused_gives_a_short_reason(waits):
    http = HttpClient(trusted_hosts=LOCAL, max_attempts=2, min_interval=0, sleep=waits.append)
    with http, pytest.raises(HttpError) as caught:
        http.get_json("http://127.0.0.1:9/api")
    assert (
        str(caught.value)
        == "GET http://127.0.0.1:9/api failed: connection failed (Connection refused) after 2 attempts"
    )


def test_token_is_sent_but_never_shown(server, caplog, waits):
    server.routes["/api/x"] = [{"status": 503, "json": {"error": f"bad token {TOKEN}"}}]
    caplog.set_level(logging.DEBUG, logger="wwc_pipeline")
    with HttpClient(
        trusted_hosts=LOCAL,
        min_interval=0,
        max_attempts=2,
        sleep=waits.append,
        default_headers={"X-App-Token": TOKEN},
    ) as http:
        with pytest.raises(HttpError) as caught:
            http.get_json(server.base + "/api/x", params={"$$app_token": TOKEN, "q": "parks"})
        shown = repr(http)
    assert server.seen[0][2]["X-App-Token"] == TOKEN
    assert "X-App-Token" in shown and TOKEN not in shown
    assert TOKEN not in str(caught.value) and TOKEN not in caught.value.url
    assert caught.value.url == server.base + "/api/x?$$app_token=***&q=parks"
    assert caplog.records and all(TOKEN not in record.getMessage() for record in caplog.records)


def test_secret_query_values_are_stripped():
    assert strip_secrets("https://d.gov/api?apikey=abc&q=x") == "https://d.gov/api?apikey=***&q=x"
    assert strip_secrets("https://d.gov/api") == "https://d.gov/api"


def test_url_guard(server):
    server.routes["/hop"] = [{"status": 302, "headers": {"Location": "http://localhost:9/steal"}}]
    with HttpClient(trusted_hosts=LOCAL, min_interval=0, allowed_hosts={"127.0.0.1"}) as http:
        with pytest.raises(HttpError, match="only http:// and https://"):
            http.get_json("file:///etc/passwd")
        with pytest.raises(HttpError, match="host example.org is not allowed"):
            http.get_json("https://example.org/api")
        with pytest.raises(HttpError, match="host localhost is not allowed"):
            http.get_json(server.base + "/hop")


def test_post_json_sends_the_body(server, client):
    server.routes["/api/3/action/package_search"] = [{"json": {"success": True, "result": {"count": 0}}}]
    response = client.post_json(server.base + "/api/3/action/package_search", {"rows": 10, "start": 0})
    assert response.data["success"] is True
    method, _path, headers, body = server.seen[0]
    assert method == "POST" and json.loads(body) == {"rows": 10, "start": 0}
    assert headers["Content-Type"] == "application/json"


def test_probe(server, client):
    server.routes["/ok.csv"] = [{"body": b"a,b\n", "headers": {"Content-Type": "text/csv"}}]
    server.routes["/nohead.csv"] = [{"body": b"a,b\n", "refuse_head": True}]
    ok = client.probe(server.base + "/ok.csv")
    assert (ok.status, ok.method, ok.ok, ok.content_type) == (200, "HEAD", True, "text/csv")
    fallback = client.probe(server.base + "/nohead.csv")
    assert (fallback.status, fallback.method, fallback.ok) == (200, "GET", True)
    assert [m for m, p, _h, _b in server.seen if p == "/nohead.csv"] == ["HEAD", "GET"]
    missing = client.probe(server.base + "/gone.csv")
    assert (missing.status, missing.ok, missing.error) == (404, False, None)
    down = client.probe("http://127.0.0.1:9/x.csv")
    assert down.status is None and "Connection refused" in down.error
    assert "only http:// and https://" in client.probe("ftp://example.org/x.csv").error


def test_probe_reports_a_persistent_5xx_as_its_status(server, client):
    server.routes["/flaky"] = [{"status": 503}]
    assert client.probe(server.base + "/flaky").status == 503
    assert server.hits("/flaky") == 4  # HEAD twice, then GET twice (probe_attempts=2)


def test_min_interval_spaces_requests_per_host_across_threads():
    slept: list[float] = []
    http = HttpClient(trusted_hosts=LOCAL, min_interval=5.0, sleep=slept.append)
    threads = [threading.Thread(target=http.wait_turn, args=("https://a.gov/x",)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    http.wait_turn("https://b.gov/x")  # another host is not held back
    assert len(slept) == 2 and sorted(round(s) for s in slept) == [5, 10]


def test_retry_after_accepts_seconds_and_http_dates():
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


# ---------------------------------------------------------------- what real portals do (review R1)


def test_202_request_processing_is_retried_until_the_200(server, client, waits):
    # Socrata's response codes: 202 "Request Processing - retry, you'll get a 200 when complete"
    processing = {"status": 202, "json": {"message": "Request processing"}, "headers": {"Retry-After": "2"}}
    server.routes["/api/catalog/v1"] = [processing, {"json": {"results": [], "resultSetSize": 0}}]
    assert client.get_json(server.base + "/api/catalog/v1").data == {"results": [], "resultSetSize": 0}
    assert server.hits("/api/catalog/v1") == 2 and waits == [2.0]


def test_202_for_ever_gives_up_with_one_line(server, client):
    server.routes["/x"] = [{"status": 202, "json": {"message": "Request processing"}}]
    with pytest.raises(HttpError) as caught:
        client.get_json(server.base + "/x")
    assert str(caught.value) == (
        f"GET {server.base}/x failed: HTTP 202 (the server is still processing the request) after 4 attempts"
    )


def test_429_without_retry_after_waits_for_the_rate_limit_reset(server, waits):
    # OpenDataSoft: X-RateLimit-Reset is an epoch time; an hour away, the wait is capped at max_wait
    reset = str(int(time.time()) + 3600)
    quota = {"errorcode": 10005, "error": "You have exceeded the requests limit for anonymous users."}
    server.routes["/api/explore/v2.1/catalog/datasets"] = [
        {"status": 429, "json": quota, "headers": {"X-RateLimit-Reset": reset, "X-RateLimit-Remaining": "0"}},
        {"json": {"total_count": 0, "results": []}},
    ]
    with HttpClient(
        trusted_hosts=LOCAL, min_interval=0, backoff=0.01, max_wait=7, sleep=waits.append
    ) as http:
        assert http.get_json(server.base + "/api/explore/v2.1/catalog/datasets").data["total_count"] == 0
    assert waits == [7]  # not the 0.01 s backoff


def test_rate_limit_reset_reads_epochs_and_delays():
    assert rate_limit_reset_seconds("30") == 30.0
    assert 590 < rate_limit_reset_seconds(str(int(time.time()) + 600)) <= 600
    assert rate_limit_reset_seconds(str(int(time.time()) - 60)) == 0.0
    assert rate_limit_reset_seconds("tomorrow") is None and rate_limit_reset_seconds(None) is None


def test_retry_after_as_a_future_http_date(server, waits):
    later = email.utils.formatdate(time.time() + 3600, usegmt=True)
    server.routes["/x"] = [{"status": 503, "headers": {"Retry-After": later}}, {"json": {}}]
    with HttpClient(trusted_hosts=LOCAL, min_interval=0, max_wait=9, sleep=waits.append) as http:
        assert http.get_json(server.base + "/x").data == {}
    assert waits == [9]
    assert 3500 < retry_after_seconds(later) <= 3600


def test_a_quota_429_that_never_lifts_shows_the_servers_reason(server, client):
    quota = {
        "errorcode": 10002,
        "error": "Too many requests on the domain. Please contact the administrator.",
    }
    server.routes["/x"] = [{"status": 429, "json": quota}]
    with pytest.raises(HttpError) as caught:
        client.get_json(server.base + "/x")
    assert str(caught.value) == (
        f"GET {server.base}/x failed: HTTP 429: Too many requests on the domain. "
        "Please contact the administrator. after 4 attempts"
    )


def test_soda_error_envelope_shows_its_message_not_true(server, client):
    soda = {"code": "query.compiler.malformed", "error": True, "message": "Could not parse SoQL query"}
    server.routes["/resource/abcd-1234.json"] = [{"status": 400, "json": soda}]
    with pytest.raises(HttpError) as caught:
        client.get_json(server.base + "/resource/abcd-1234.json")
    assert str(caught.value).endswith("failed: HTTP 400: Could not parse SoQL query")


def test_a_redirect_to_another_host_does_not_carry_the_token(server):
    port = server.server_address[1]
    server.routes["/hop"] = [{"status": 302, "headers": {"Location": f"http://localhost:{port}/landed"}}]
    server.routes["/near"] = [{"status": 301, "headers": {"Location": "/landed"}}]
    server.routes["/landed"] = [{"json": {"ok": True}}]
    secret = {"X-App-Token": TOKEN, "Authorization": f"Apikey {TOKEN}"}
    with HttpClient(trusted_hosts=(*LOCAL, "localhost"), min_interval=0, default_headers=secret) as http:
        assert http.get_json(server.base + "/hop").data == {"ok": True}
        assert http.get_json(server.base + "/near").data == {"ok": True}
    hop_landing, near_landing = [headers for _m, path, headers, _b in server.seen if path == "/landed"]
    assert hop_landing["Host"] == f"localhost:{port}"
    assert "X-App-Token" not in hop_landing and "Authorization" not in hop_landing
    assert near_landing["X-App-Token"] == TOKEN  # same host: the token stays


def test_a_redirect_to_another_scheme_is_refused(server, client):
    server.routes["/feed"] = [{"status": 302, "headers": {"Location": "ftp://files.example.org/feed.json"}}]
    with pytest.raises(HttpError) as caught:
        client.get_json(server.base + "/feed")
    assert str(caught.value) == (
        f"GET {server.base}/feed failed: redirect refused URL 'ftp://files.example.org/feed.json': "
        "only http:// and https:// URLs are fetched"
    )


def test_gzip_body_is_decoded(server, client):
    packed = gzip.compress(json.dumps({"dataset": [{"identifier": "a"}]}).encode())
    server.routes["/data.json"] = [{"body": packed, "headers": {"Content-Encoding": "gzip"}}]
    assert client.get_json(server.base + "/data.json").data == {"dataset": [{"identifier": "a"}]}
    assert "gzip" in server.seen[0][2]["Accept-Encoding"]


@pytest.mark.parametrize(
    "content_type", ["text/plain; charset=utf-8", "text/html", "application/octet-stream"]
)
def test_json_served_with_another_content_type_is_read(server, client, content_type):
    server.routes["/api"] = [{"json": {"results": [1]}, "headers": {"Content-Type": content_type}}]
    assert client.get_json(server.base + "/api").data == {"results": [1]}


def test_a_body_that_stalls_is_a_read_timeout(server, waits):
    server.routes["/feed.json"] = [{"json": {"dataset": ["x" * 200]}, "stall": True}]
    http = HttpClient(
        trusted_hosts=LOCAL, timeout=(2, 0.2), max_attempts=2, min_interval=0, sleep=waits.append
    )
    with http, pytest.raises(HttpError) as caught:
        http.get_json(server.base + "/feed.json")
    reason = "timed out reading the body (no data within 0.2 s) after 2 attempts"
    assert str(caught.value) == f"GET {server.base}/feed.json failed: {reason}"
    assert server.hits("/feed.json") == 2


def test_a_connect_timeout_names_the_connect_timeout(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise requests.ConnectTimeout("connect timed out")

    monkeypatch.setattr(client.session, "request", refuse)
    with pytest.raises(HttpError) as caught:
        client.get_json("https://data.example.gov/api/catalog/v1")
    assert str(caught.value) == (
        "GET https://data.example.gov/api/catalog/v1 failed: "
        "timed out connecting (no connection within 10 s) after 4 attempts"
    )


def test_a_tls_failure_is_named_and_not_retried(server, client):
    with pytest.raises(HttpError) as caught:
        client.get_json(f"https://127.0.0.1:{server.server_address[1]}/api")  # the server speaks plain HTTP
    message = str(caught.value)
    assert message.startswith(f"GET https://127.0.0.1:{server.server_address[1]}/api failed: TLS error (")
    assert "\n" not in message and "attempts" not in message


def test_a_token_in_the_query_or_after_a_scheme_is_never_shown(server, caplog, waits):
    caplog.set_level(logging.DEBUG)
    echo = {"status": 503, "json": {"error": f"quota exceeded for key {TOKEN}"}}
    server.routes["/q"] = [echo]
    server.routes["/h"] = [echo]
    with HttpClient(trusted_hosts=LOCAL, min_interval=0, max_attempts=2, sleep=waits.append) as http:
        with pytest.raises(HttpError) as by_param:
            http.get_json(server.base + "/q", params={"apikey": TOKEN})
        with pytest.raises(HttpError) as by_header:
            http.get_json(server.base + "/h", headers={"Authorization": f"Apikey {TOKEN}"})
    for caught in (by_param, by_header):
        assert TOKEN not in str(caught.value) and TOKEN not in caught.value.url
        assert "quota exceeded for key ***" in str(caught.value)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "quota exceeded for key ***" in logged and TOKEN not in logged


def test_redact_query_text_hides_secret_values_even_percent_encoded():
    line = 'http://h:80 "GET /resource/x.json?%24%24app_token=abc123&%24limit=5 HTTP/1.1" 200 10'
    assert (
        redact_query_text(line)
        == 'http://h:80 "GET /resource/x.json?%24%24app_token=***&%24limit=5 HTTP/1.1" 200 10'
    )
    assert redact_query_text("/api?q=parks&apikey=k1&rows=10") == "/api?q=parks&apikey=***&rows=10"


def test_a_body_in_the_declared_legacy_charset_is_read(server, client):
    body = json.dumps({"title": "Données ouvertes"}, ensure_ascii=False).encode("latin-1")
    server.routes["/data.json"] = [
        {"body": body, "headers": {"Content-Type": "application/json; charset=ISO-8859-1"}}
    ]
    assert client.get_json(server.base + "/data.json").data == {"title": "Données ouvertes"}
    assert server.hits("/data.json") == 1


# ---------------------------------------------------------------- deadlines, bytes, streams (issue 13)


def test_a_server_dripping_even_its_headers_is_stopped_at_the_request_deadline(server):
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    server.routes["/slow"] = [{"drip_raw": answer, "interval": 0.2}]  # a read timeout never trips
    http = HttpClient(trusted_hosts=LOCAL, min_interval=0, request_deadline=0.8)
    with http, pytest.raises(DeadlineError) as caught:
        http.get_json(server.base + "/slow")
    assert str(caught.value) == (
        f"GET {server.base}/slow failed: the request deadline (0.8 s) passed before an answer came"
    )
    assert caught.value.attempts == 1 and server.hits("/slow") == 1


def test_a_view_within_a_deadline_stops_before_the_next_request(server, client):
    server.routes["/x"] = [{"json": {}}]
    bounded = client.within(0.0001, "the harvest deadline")
    time.sleep(0.01)
    with pytest.raises(DeadlineError, match=r"failed: the harvest deadline \(0.0001 s\) passed$"):
        bounded.get_json(server.base + "/x")
    with pytest.raises(DeadlineError, match=r"^stopped: the harvest deadline \(0.0001 s\) passed$"):
        bounded.check_deadline()
    assert server.hits("/x") == 0
    assert client.get_json(server.base + "/x").data == {}  # the client itself has no such deadline


def test_bytes_that_are_not_utf8_are_replaced_and_counted_not_retried(server, client):
    server.routes["/data.json"] = [{"body": b'{"title": "caf\xc3\xa9 \xff", "ok": "\xef\xbf\xbd"}'}]
    response = client.get_json(server.base + "/data.json")
    assert response.data == {"title": "caf\u00e9 \ufffd", "ok": "\ufffd"}  # a real U+FFFD is no error
    assert response.undecodable == 1 and server.hits("/data.json") == 1


def test_a_declared_legacy_charset_is_not_used_once_the_body_proved_utf8(server, client):
    body = b'{"a": "Donn\xc3\xa9es", "b": "caf\xe9"}'  # UTF-8 first, then one stray Latin-1 byte
    server.routes["/x"] = [
        {"body": body, "headers": {"Content-Type": "application/json; charset=ISO-8859-1"}}
    ]
    response = client.get_json(server.base + "/x")
    assert response.data == {"a": "Donn\u00e9es", "b": "caf\ufffd"} and response.undecodable == 1


def test_utf16_with_a_bom_is_read(server, client):
    server.routes["/x"] = [{"body": json.dumps({"t": "\u00e9t\u00e9"}).encode("utf-16")}]
    assert client.get_json(server.base + "/x").data == {"t": "\u00e9t\u00e9"}


def test_a_character_split_between_two_chunks_is_not_damaged():
    repair = TextRepair()
    assert (
        repair.feed(b'{"t": "caf\xc3') + repair.feed(b'\xa9"}', final=True) == '{"t": "caf\u00e9"}'.encode()
    )
    assert repair.replaced == 0


def test_json_whose_syntax_is_broken_in_a_whole_body_is_not_retried(server, client):
    server.routes["/x"] = [{"body": b'{"a": x}'}]
    with pytest.raises(HttpError) as caught:
        client.get_json(server.base + "/x")
    assert (
        str(caught.value)
        == f"GET {server.base}/x failed: returned invalid JSON (lexical error: invalid char in json text)"
    )
    assert server.hits("/x") == 1


def test_blank_padding_is_refused_long_before_the_cap(server, client):
    server.routes["/x"] = [{"body": b" " * (QUOTELESS_LIMIT + 65536) + b"{}"}]
    with pytest.raises(
        HttpError, match=r"failed: refused after 16\.\d+ MB: 16 MB of the body hold no JSON string"
    ):
        client.get_json(server.base + "/x")
    assert server.hits("/x") == 1


def test_items_stream_in_converted_and_reading_stops_at_max_items(server, client):
    rows = [{"n": n, "name": "r\u00e9sum\u00e9" if n != 2 else "x"} for n in range(2000)]
    body = json.dumps(rows, ensure_ascii=False).encode().replace(b'"x"', b'"\xff"', 1)
    server.routes["/rows.json"] = [{"body": body}]
    response = client.get_json_items(
        server.base + "/rows.json", ("item",), convert=lambda row: row["n"] if row["n"] % 2 == 0 else None
    )
    assert response.items == list(range(0, 2000, 2)) and (response.count, response.skipped) == (2000, 1000)
    assert response.found and response.flagged == [1]  # the third row, kept as the second item
    first = client.get_json_items(server.base + "/rows.json", ("item",), max_items=5)
    assert [row["n"] for row in first.items] == [0, 1, 2, 3, 4] and first.count == 5


def test_items_of_a_document_without_the_list_are_not_found(server, client):
    server.routes["/x"] = [{"json": {"error": "maintenance"}}]
    response = client.get_json_items(server.base + "/x", ("dataset.item", "item"))
    assert (response.found, response.items, response.document) == (False, [], {"error": "maintenance"})


def test_a_portal_view_caps_bodies_at_its_max_body_mb(server, client):
    server.routes["/big"] = [{"json": {"rows": ["x" * 100] * 100}}]
    portal = PortalConfig(platform="dcat", url=server.base, max_body_mb=0.005)
    with pytest.raises(HttpError) as caught:
        client.for_portal(portal).get_json(server.base + "/big")
    assert str(caught.value) == f"GET {server.base}/big failed: body larger than 5242 bytes"


def test_a_retry_wait_that_would_outlast_the_deadline_is_not_waited(server, waits):
    server.routes["/x"] = [{"status": 429, "headers": {"Retry-After": "30"}}, {"json": {}}]
    with HttpClient(trusted_hosts=LOCAL, min_interval=0, sleep=waits.append) as http:
        bounded = http.within(5, "the harvest deadline")
        with pytest.raises(DeadlineError) as caught:
            bounded.get_json(server.base + "/x")
    assert str(caught.value) == (
        f"GET {server.base}/x failed: "
        "the harvest deadline (5 s) would pass during the 30 s wait before a retry"
    )
    assert waits == [] and server.hits("/x") == 1


def test_retry_backoff_comes_from_the_environment_else_one_second(monkeypatch):
    """`WWC_HTTP_RETRY_BACKOFF_S` sets the pipeline clients' first wait; nonsense is refused."""
    from wwc_pipeline.http_waits import BACKOFF_ENV, retry_backoff_default

    monkeypatch.delenv(BACKOFF_ENV, raising=False)
    assert retry_backoff_default() == 1.0
    monkeypatch.setenv(BACKOFF_ENV, "0.05")
    assert retry_backoff_default() == 0.05
    for bad in ("soon", "-1"):
        monkeypatch.setenv(BACKOFF_ENV, bad)
        with pytest.raises(ValueError, match=BACKOFF_ENV):
            retry_backoff_default()


WHOLE_BODIES = {
    "catalog page": json.dumps(  # an emoji's escape is a surrogate pair: not a lone one
        {"results": [{"id": f"a{n}", "name": "r\u00e9sum\u00e9 \U0001f600", "x": n / 3} for n in range(50)]}
    ).encode(),
    "BOM": b'\xef\xbb\xbf{"a": 1}',  # dropped as the body is decoded: plain JSON then
    "NaN": b'{"a": NaN}',
    "lone surrogate": b'{"a": "\\ud800", "b": "\\udc00 \\ud83d\\ude00"}',
    "trailing garbage": b'{"a": 1} x',
    "deep nesting": b"[" * 5000 + b"]" * 5000,
}
PLAIN = {"catalog page", "BOM"}  # read at once; the others go on to ijson


@pytest.mark.parametrize("name", list(WHOLE_BODIES))
def test_a_whole_document_read_at_once_is_what_streaming_it_reads(server, client, monkeypatch, name):
    """json_document parses a small body with the json module; data and errors stay ijson's."""
    from wwc_pipeline import http_body, http_document

    server.routes["/x"] = [{"body": WHOLE_BODIES[name]}] * 2
    streamed = []
    original = http_body.json_items
    monkeypatch.setattr(http_body, "json_items", lambda *a, **k: streamed.append(1) or original(*a, **k))

    def read() -> object:
        try:
            return client.get_json(server.base + "/x").data
        except Exception as error:  # noqa: BLE001 - the same error either way, whatever it is
            return f"{type(error).__name__}: {error}"

    at_once = read()
    streamed_at_once = bool(streamed)
    monkeypatch.setattr(http_document, "WHOLE_PARSE_BYTES", 0)  # every body through ijson, as it streams
    assert shape(read()) == shape(at_once)
    assert streamed_at_once is (name not in PLAIN)
    if name == "catalog page":
        assert at_once == json.loads(WHOLE_BODIES[name])


def shape(value: object) -> object:
    """A value to compare, its nesting counted without recursion (5,000 lists deep)."""
    depth = 0
    while isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value, depth = value[0], depth + 1
    return depth, value


def test_a_document_streams_when_enough_are_held_whole_already(server, client, monkeypatch):
    """Bodies held whole at once are bounded (`WHOLE_PARSES`): past it, one streams as before."""
    import threading

    from wwc_pipeline import http_body, http_document

    streamed = []
    original = http_body.json_items
    monkeypatch.setattr(http_body, "json_items", lambda *a, **k: streamed.append(1) or original(*a, **k))
    monkeypatch.setattr(http_document, "WHOLE_PARSES", threading.BoundedSemaphore(1))
    server.routes["/x"] = [{"body": WHOLE_BODIES["catalog page"]}] * 2
    with http_document.WHOLE_PARSES:  # the one slot taken, as by another page being read
        assert client.get_json(server.base + "/x").data == json.loads(WHOLE_BODIES["catalog page"])
    assert streamed == [1]
    assert client.get_json(server.base + "/x").data == json.loads(WHOLE_BODIES["catalog page"])
    assert streamed == [1]  # the slot free again: read at once
