"""The one HTTP client every connector and check uses.

One `requests.Session`, a timeout on every call, retries with backoff on 429/5xx/connection
errors that honour Retry-After (tenacity), a minimum interval per host, a body size cap, a URL
guard and an identifying User-Agent. Failures become one `HttpError` with a line a user can
read; tokens never appear in it, in logs or in `repr`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from wwc_pipeline import __version__
from wwc_pipeline.http_guard import (  # noqa: F401 - re-exported: the client's public helpers
    SECRET_PARAMS,
    GuardedSession,
    is_secret_header,
    redact_query_text,
    strip_secrets,
)
from wwc_pipeline.http_waits import (  # noqa: F401 - re-exported
    is_retry_status,
    rate_limit_reset_seconds,
    retry_after_seconds,
    server_wait,
    size_text,
)

USER_AGENT = f"wwc-pipeline/{__version__} (+https://github.com/wwc-pipeline)"
_PLAIN_HEADERS = frozenset({"User-Agent", "Accept", "Accept-Encoding", "Connection"})
_ERRNO_TEXT = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")
_SSL_TEXT = re.compile(r"\[SSL(?:: [A-Z0-9_]+)?\] ([^'\"(]+)")
_CHARSET = re.compile(r"charset=[\"']?([\w.:-]+)", re.IGNORECASE)
log = logging.getLogger(__name__)


class HttpError(Exception):
    """A request that failed for good; `str()` is one line, free of secrets."""

    def __init__(
        self, message: str, url: str, status: int | None = None, attempts: int = 1, body: bytes = b""
    ):
        super().__init__(message)
        self.url = url  # secrets stripped from the query
        self.status = status
        self.attempts = attempts
        self.body = body  # at most 64 KiB of an error response, for connectors that parse error envelopes


class NotJsonError(HttpError):
    """A 2xx answer that is an HTML page, not JSON: usually not the API URL (or a login page)."""


class _Retryable(Exception):
    """One attempt failed in a way worth trying again."""

    def __init__(self, reason: str, status: int | None = None, retry_after: float | None = None, body=b""):
        super().__init__(reason)
        self.reason, self.status, self.retry_after, self.body = reason, status, retry_after, body


@dataclass
class JsonResponse:
    data: Any
    body: bytes
    url: str  # the final URL, secrets stripped
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


@dataclass(frozen=True)
class LinkProbe:
    """What a link answered: its status code, or the error text when it gave none."""

    url: str
    status: int | None = None
    error: str | None = None
    method: str = "HEAD"
    final_url: str | None = None
    content_type: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 400


class HttpClient:
    """A polite, bounded HTTP client for JSON APIs and link checks; safe to share between threads."""

    def __init__(
        self,
        *,
        timeout: tuple[float, float] = (10.0, 60.0),
        max_attempts: int = 4,
        backoff: float = 1.0,
        max_wait: float = 60.0,
        min_interval: float = 0.1,
        max_bytes: int = 50 * 1048576,
        allowed_hosts: Iterable[str] | None = None,
        default_headers: Mapping[str, str] | None = None,
        probe_attempts: int = 2,
        pool_size: int = 10,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff  # first retry waits this long, then doubling
        self.max_wait = max_wait  # cap on any one wait, Retry-After included
        self.min_interval = min_interval  # seconds between two requests to the same host
        self.max_bytes = max_bytes
        self.allowed_hosts = {h.lower() for h in allowed_hosts} if allowed_hosts is not None else None
        self.probe_attempts = max(1, probe_attempts)
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot: dict[str, float] = {}
        self.session = GuardedSession(self.check_url)
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        self.session.headers.update(default_headers or {})

    def __repr__(self) -> str:
        names = sorted(k for k in self.session.headers if k not in _PLAIN_HEADERS)
        return (
            f"HttpClient(timeout={self.timeout}, max_attempts={self.max_attempts}, "
            f"min_interval={self.min_interval}, max_bytes={self.max_bytes}, headers={names})"
        )

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    def new_session(self) -> requests.Session:
        """A session with this client's identity and redirect guard, for a library that makes its
        own calls (sodapy): redirects are checked and secret headers do not follow them off-host."""
        session = GuardedSession(self.check_url)
        session.headers.update(self.session.headers)
        # the library's calls get the same retry policy as ours: 429/5xx, Retry-After honoured
        retry = Retry(
            total=self.max_attempts - 1,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD"}),
            backoff_factor=self.backoff,
            backoff_max=self.max_wait,
            retry_after_max=int(self.max_wait),
            raise_on_status=False,
        )
        for prefix in ("http://", "https://"):
            session.mount(prefix, HTTPAdapter(max_retries=retry))
        return session

    def check_url(self, url: str) -> None:
        """Raise HttpError unless the URL is http(s) and, with an allow-list, on an allowed host."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise HttpError(
                f"refused URL {strip_secrets(url)!r}: only http:// and https:// URLs are fetched",
                strip_secrets(url),
            )
        if (
            self.allowed_hosts is not None
            and not {parts.hostname.lower(), parts.netloc.lower()} & self.allowed_hosts
        ):
            raise HttpError(
                f"refused URL {strip_secrets(url)}: host {parts.hostname} is not allowed", strip_secrets(url)
            )

    def wait_turn(self, url: str) -> None:
        """Sleep until this host may be asked again (`min_interval` apart, across threads)."""
        host = urlsplit(url).netloc.lower()
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot.get(host, 0.0))
            self._next_slot[host] = slot + self.min_interval
        if slot > now:
            self._sleep(slot - now)

    def get_json(
        self, url: str, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
    ) -> JsonResponse:
        """GET a JSON document; HttpError when it cannot be had (status >= 400, retries spent, bad JSON)."""
        return self._json("GET", url, params, headers, None)

    def post_json(
        self,
        url: str,
        json_body: Any,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> JsonResponse:
        """POST a JSON body; retried like a GET, as the APIs we POST to (CKAN actions) only read."""
        return self._json("POST", url, params, headers, json_body)

    def probe(self, url: str) -> LinkProbe:
        """HEAD the link (GET without reading the body when HEAD is refused); never raises."""
        shown = strip_secrets(url)
        try:
            self.check_url(url)
        except HttpError as error:
            return LinkProbe(shown, error=str(error))
        result = self._probe_once("HEAD", url)
        if result.status is not None and result.status >= 400:
            result = self._probe_once("GET", url)
        return result

    # -- internals ---------------------------------------------------------------------------------

    def _describe(self, method: str, url: str, params) -> tuple[str, str]:
        """("GET <url with query, secrets stripped>", that URL) for messages."""
        prepared = PreparedRequest()
        try:
            prepared.prepare_url(url, params)
            full = prepared.url or url
        except requests.RequestException:
            full = url
        shown = strip_secrets(full)
        return f"{method} {shown}", shown

    def _secrets(self, headers, params) -> list[str]:
        """Values that must never be shown: secret headers (and the key of `Apikey KEY`), secret params."""
        found: list[str] = []
        for name, value in {**self.session.headers, **(headers or {})}.items():
            if value and is_secret_header(name):
                found += [str(value), *str(value).split()[1:]]
        for name, value in (params or {}).items():
            if value and str(name).lower() in SECRET_PARAMS:
                found.append(str(value))
        return sorted({value for value in found if len(value) >= 4}, key=len, reverse=True)

    @staticmethod
    def _redact(text: str, secrets: list[str]) -> str:
        for secret in secrets:
            text = text.replace(secret, "***")
        return text

    def _with_retries(
        self, label: str, shown: str, attempts: int, attempt: Callable[[], Any], secrets: list[str]
    ) -> Any:
        tried = 0

        def once() -> Any:
            nonlocal tried
            tried += 1
            return attempt()

        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda state: log.warning(
                "%s: %s; retry %d of %d in %.1f s",
                label,
                self._redact(str(state.outcome.exception()), secrets),
                state.attempt_number,
                attempts - 1,
                state.next_action.sleep if state.next_action else 0.0,
            ),
        )
        try:
            return retrying(once)
        except _Retryable as error:
            times = f" after {tried} attempts" if tried > 1 else ""
            message = self._redact(f"{label} failed: {error.reason}{times}", secrets)
            raise HttpError(message, shown, error.status, tried, error.body) from None

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Retryable) and error.retry_after is not None:
            return min(error.retry_after, self.max_wait)
        return min(self.backoff * 2 ** (state.attempt_number - 1), self.max_wait)

    def _send(self, method: str, url: str, label: str, shown: str, **kwargs: Any) -> requests.Response:
        self.wait_turn(url)
        try:
            return self.session.request(method, url, timeout=self.timeout, stream=True, **kwargs)
        except requests.ConnectTimeout:
            raise _Retryable(f"timed out connecting (no connection within {self.timeout[0]:g} s)") from None
        except requests.Timeout:
            raise _Retryable(f"timed out (no answer within {self.timeout[1]:g} s)") from None
        except requests.TooManyRedirects:
            raise HttpError(f"{label} failed: too many redirects", shown) from None
        except requests.exceptions.SSLError as error:
            found = _SSL_TEXT.search(str(error))
            reason = f"TLS error ({found.group(1).strip() if found else 'handshake failed'})"
            if "EOF" in str(error):  # the connection was cut during the handshake: worth another try
                raise _Retryable(reason) from None
            raise HttpError(f"{label} failed: {reason}", shown) from None
        except requests.ConnectionError as error:
            found = _ERRNO_TEXT.search(str(error))
            raise _Retryable(
                f"connection failed ({found.group(1).strip() if found else 'network error'})"
            ) from None
        except requests.RequestException as error:
            raise HttpError(f"{label} failed: {type(error).__name__}", shown) from None
        except HttpError as error:  # the guard refused where a redirect pointed
            raise HttpError(f"{label} failed: redirect {error}", shown) from None

    def _read_body(self, response: requests.Response, label: str, shown: str, limit: int) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise HttpError(f"{label} failed: body larger than {size_text(limit)}", shown)
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(65536):
                size += len(chunk)
                if size > limit:
                    raise HttpError(f"{label} failed: body larger than {size_text(limit)}", shown)
                chunks.append(chunk)
        except requests.Timeout:
            raise _Retryable(f"timed out reading the body (after {size_text(size)})") from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:
            if error.args and isinstance(error.args[0], ReadTimeoutError):  # how requests wraps it
                raise _Retryable(
                    f"timed out reading the body (no data within {self.timeout[1]:g} s)"
                ) from None
            raise _Retryable(f"connection broke while reading the body (after {size_text(size)})") from None
        except requests.exceptions.ContentDecodingError:
            raise _Retryable("body could not be decompressed") from None
        return b"".join(chunks)

    def _json(self, method: str, url: str, params, headers, json_body) -> JsonResponse:
        self.check_url(url)
        label, shown = self._describe(method, url, params)
        secrets = self._secrets(headers, params)

        def attempt() -> JsonResponse:
            response = self._send(method, url, label, shown, params=params, headers=headers, json=json_body)
            with response:
                status = response.status_code
                if status == 202:  # Socrata: "Request Processing - retry, you'll get a 200 when complete"
                    self._error_body(response, label, shown)
                    raise _Retryable(
                        "HTTP 202 (the server is still processing the request)", status, server_wait(response)
                    )
                if is_retry_status(status):
                    body = self._error_body(response, label, shown)
                    raise _Retryable(
                        f"HTTP {status}{_error_detail(body)}", status, server_wait(response), body
                    )
                if status >= 400:
                    body = self._error_body(response, label, shown)
                    message = self._redact(f"{label} failed: HTTP {status}{_error_detail(body)}", secrets)
                    raise HttpError(message, shown, status, body=body)
                body = self._read_body(response, label, shown, self.max_bytes)
                final_url = strip_secrets(response.url)
                content_type = response.headers.get("Content-Type", "")
                headers_out = dict(response.headers)
            try:
                data = _loads(body, content_type)
            except ValueError:
                if "html" in content_type.lower():
                    message = f"{label} returned an HTML page, not JSON (is this the API URL?)"
                    raise NotJsonError(message, shown, status, body=body[:65536]) from None
                raise _Retryable(
                    f"returned invalid JSON (truncated body? {size_text(len(body))} read)", status
                ) from None
            return JsonResponse(data, body, final_url, status, headers_out)

        return self._with_retries(label, shown, self.max_attempts, attempt, secrets)

    def _error_body(self, response: requests.Response, label: str, shown: str) -> bytes:
        """Up to 64 KiB of an error body (a longer or broken one is dropped, not an error of its own)."""
        try:
            return self._read_body(response, label, shown, 65536)
        except (HttpError, _Retryable):
            return b""

    def _probe_once(self, method: str, url: str) -> LinkProbe:
        label, shown = self._describe(method, url, None)

        def attempt() -> LinkProbe:
            response = self._send(method, url, label, shown, allow_redirects=True, headers={"Accept": "*/*"})
            with response:
                status = response.status_code
                if is_retry_status(status):
                    raise _Retryable(f"HTTP {status}", status, server_wait(response))
                final_url, content_type = strip_secrets(response.url), response.headers.get("Content-Type")
            return LinkProbe(shown, status, method=method, final_url=final_url, content_type=content_type)

        try:
            return self._with_retries(label, shown, self.probe_attempts, attempt, self._secrets(None, None))
        except HttpError as error:
            return LinkProbe(shown, error.status, None if error.status else str(error), method)


def _loads(body: bytes, content_type: str) -> Any:
    """JSON from UTF-8 (or UTF-16/32, BOM or not), else from the charset the server declares."""
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        charset = _CHARSET.search(content_type)
        if not charset:
            raise
        try:
            return json.loads(body.decode(charset.group(1)))
        except LookupError:  # an unknown charset name
            raise ValueError(f"unknown charset {charset.group(1)!r}") from None


def _error_detail(body: bytes) -> str:
    """The server's own short error message, e.g. Socrata's {"error": ...} or CKAN's error.message."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    message = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            message = error.get("message") or error.get("__type")
        elif isinstance(error, str) and error.strip():
            message = error
        else:  # SODA puts `"error": true` beside its `message`
            message = data.get("message")
    if not message:
        return ""
    return ": " + " ".join(str(message).split())[:200]
