"""The one HTTP client everything the project fetches goes through: catalogs, row samples, link probes.

One policy for all of it: a timeout on every call and a deadline on every request (a server
dripping bytes ends at the deadline), retries with backoff on 429/5xx/cut connections that
honour Retry-After (tenacity), a minimum interval per host, a cap on body size, bodies parsed as
they stream in (ijson), bytes that are not text replaced instead of failing a document, a URL
guard, an address policy (no internal address unless trusted, checked at connect time and on
every redirect) and an identifying User-Agent. Failures become one `HttpError` whose line a
user can read; tokens never appear in it, in logs or in `repr`.

`client.for_portal(portal)` is the client as one portal's config shapes it (its own host trusted,
its deadline and cap); `client.within(seconds, what)` adds a deadline (a harvest, a run).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import urlsplit

from wwc_pipeline import __version__
from wwc_pipeline.http_adapter import SharedState
from wwc_pipeline.http_body import BodyReader, holds_replacement, json_items, list_at, small_document
from wwc_pipeline.http_conditional import ValidatorLog
from wwc_pipeline.http_deadline import Deadline
from wwc_pipeline.http_document import json_document
from wwc_pipeline.http_guard import (  # noqa: F401 - re-exported: the client's public helpers
    SECRET_PARAMS,
    GuardedSession,
    is_secret_header,
    redact_query_text,
    strip_secrets,
)
from wwc_pipeline.http_policy import AddressPolicy, hosts_of
from wwc_pipeline.http_send import Attempts, send
from wwc_pipeline.http_types import (  # noqa: F401 - re-exported
    DeadlineError,
    Final,
    HttpError,
    ItemsResponse,
    JsonResponse,
    LinkProbe,
    NotJsonError,
    RefusedError,
    Retryable,
)
from wwc_pipeline.http_waits import (  # noqa: F401 - re-exported
    is_retry_status,
    rate_limit_reset_seconds,
    retry_after_seconds,
    server_wait,
    size_text,
)
from wwc_pipeline.politeness import DEFAULT_PER_HOST, HostLimiter

USER_AGENT = f"wwc-pipeline/{__version__} (+https://github.com/wwc-pipeline)"
MB = 1048576
DEFAULT_MAX_BYTES = 1024 * MB  # bodies stream through the parser: the cap bounds time, not memory
DEFAULT_REQUEST_DEADLINE = 300.0
DEFAULT_MIN_INTERVAL = 0.0  # politeness is `per_host` in flight (politeness.py); an interval is opt-in
_PLAIN_HEADERS = frozenset({"User-Agent", "Accept", "Accept-Encoding", "Connection"})


class HttpClient:
    """A polite, bounded HTTP client for JSON APIs and link checks; safe to share between threads.

    `trusted_hosts` are reached wherever they resolve (a portal's own host is added by
    `for_portal`); every other host only on public addresses. `allowed_hosts`, when given, are
    the only hosts asked at all. `request_deadline` bounds one attempt, connect to last byte.
    """

    def __init__(
        self,
        *,
        timeout: tuple[float, float] = (10.0, 60.0),
        max_attempts: int = 4,
        backoff: float = 1.0,
        max_wait: float = 60.0,
        min_interval: float = DEFAULT_MIN_INTERVAL,
        max_bytes: int = DEFAULT_MAX_BYTES,
        request_deadline: float = DEFAULT_REQUEST_DEADLINE,
        trusted_hosts: Iterable[str] = (),
        allowed_hosts: Iterable[str] | None = None,
        default_headers: Mapping[str, str] | None = None,
        probe_attempts: int = 2,
        pool_size: int = 10,
        per_host: int = DEFAULT_PER_HOST,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff  # first retry waits this long, then doubling
        self.max_wait = max_wait  # cap on any one wait, Retry-After included
        self.min_interval = min_interval  # seconds between two requests to the same host
        self.max_bytes = max_bytes
        self.request_deadline = request_deadline  # connect + answer + whole body, per attempt
        self.allowed_hosts = {h.lower() for h in allowed_hosts} if allowed_hosts is not None else None
        self.policy = AddressPolicy.trusting(trusted_hosts)  # hosts reached even on internal addresses
        self.deadlines: tuple[Deadline, ...] = ()
        self.probe_attempts = max(1, probe_attempts)
        self._sleep = sleep
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(default_headers or {})}
        self._shared = SharedState(headers, pool_size, self.check_url)
        self.limiter = HostLimiter(per_host)  # requests in flight per host; views share it
        self._root = True
        self.session = self._shared.session_for(self.policy)
        self.recorder: ValidatorLog | None = None  # a harvest's catalog requests (http_conditional)

    def __repr__(self) -> str:
        names = sorted(k for k in self.session.headers if k not in _PLAIN_HEADERS)
        return (
            f"HttpClient(timeout={self.timeout}, max_attempts={self.max_attempts}, "
            f"min_interval={self.min_interval}, max_bytes={self.max_bytes}, "
            f"request_deadline={self.request_deadline:g}, headers={names})"
        )

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every session (a view leaves that to the client it came from)."""
        if self._root:
            self._shared.close()

    # -- views -------------------------------------------------------------------------------------

    def _view(self, policy: AddressPolicy | None = None) -> HttpClient:
        view = copy.copy(self)
        view._root = False
        if policy is not None and policy != self.policy:
            view.policy = policy
            view.session = self._shared.session_for(policy)
        return view

    def for_portal(self, portal: Any) -> HttpClient:
        """This client as `portal` (a config.PortalConfig) shapes it: its host and catalog host and
        its `allow_internal_hosts` trusted; its `request_deadline_s`, `max_body_mb` and
        `min_interval_s`."""
        hosts = hosts_of(portal.url, getattr(portal, "catalog_path", None))
        hosts += list(getattr(portal, "allow_internal_hosts", None) or [])
        view = self._view(AddressPolicy.trusting([*self.policy.trusted_hosts, *hosts]))
        view.request_deadline = float(getattr(portal, "request_deadline_s", None) or self.request_deadline)
        max_body_mb = getattr(portal, "max_body_mb", None)
        view.max_bytes = int(max_body_mb * MB) if max_body_mb else self.max_bytes
        min_interval = getattr(portal, "min_interval_s", None)
        view.min_interval = self.min_interval if min_interval is None else float(min_interval)
        return view

    def recording(self, recorder: ValidatorLog) -> HttpClient:
        """A view that notes every document request it makes and the validators that came back
        (a harvest's pages, to be revalidated next run: http_conditional.py)."""
        view = self._view()
        view.recorder = recorder
        return view

    def within(self, seconds: float | None, what: str) -> HttpClient:
        """A view that stops every request once `seconds` from now have passed (None: no limit)."""
        if seconds is None:
            return self
        view = self._view()
        view.deadlines = (*self.deadlines, Deadline.after(seconds, f"{what} ({seconds:g} s)"))
        return view

    def check_deadline(self) -> None:
        """Raise DeadlineError when a deadline of this view (a harvest's, a run's) has passed."""
        for deadline in self.deadlines:
            if deadline.remaining() <= 0:
                raise DeadlineError(f"stopped: {deadline.what} passed", "")

    # -- guards ------------------------------------------------------------------------------------

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

    def host_slot(self, url: str) -> AbstractContextManager[None]:
        """Hold one of the `per_host` slots of this URL's host for one attempt (politeness)."""
        return self.limiter.slot(url)

    def wait_turn(self, url: str) -> None:
        """Sleep until this host may be asked again (`min_interval` apart, across threads)."""
        if self.min_interval <= 0:
            return
        host = urlsplit(url).netloc.lower()
        with self._shared.lock:
            now = time.monotonic()
            slot = max(now, self._shared.next_slot.get(host, 0.0))
            self._shared.next_slot[host] = slot + self.min_interval
        if slot > now:
            self._sleep(slot - now)

    # -- requests ----------------------------------------------------------------------------------

    def get_json(
        self, url: str, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
    ) -> JsonResponse:
        """GET a JSON document; HttpError when it cannot be had (status >= 400, retries spent, bad JSON)."""
        return self._document("GET", url, params, headers, None)

    def post_json(
        self,
        url: str,
        json_body: Any,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> JsonResponse:
        """POST a JSON body; retried like a GET, as the APIs we POST to (CKAN actions) only read."""
        return self._document("POST", url, params, headers, json_body)

    def get_json_items(
        self,
        url: str,
        paths: Sequence[str],
        *,
        convert: Callable[[Any], Any] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        max_items: int | None = None,
    ) -> ItemsResponse:
        """GET a JSON document and keep only `convert(item)` of each item of its one big list.

        `paths` are ijson item paths (`dataset.item`, `item` for a top-level list); the first that
        fits the body's shape is read. Items are converted as they stream in, so memory holds the
        converted results, never the body; reading stops after `max_items`.
        """
        attempts = Attempts(self, "GET", url, params, headers)

        def consume(reader: BodyReader, response: Any) -> ItemsResponse:
            content_type = response.headers.get("Content-Type", "")
            out = ItemsResponse([], strip_secrets(response.url), response.status_code, "")
            for raw in json_items(reader, paths, content_type):
                out.count += 1
                value = convert(raw) if convert else raw
                if value is None:
                    out.skipped += 1
                else:
                    if reader.undecodable and holds_replacement(raw):
                        out.flagged.append(len(out.items))
                    out.items.append(value)
                if max_items is not None and out.count >= max_items:
                    break  # the rest of the body is never read
            out.document = small_document(reader)
            out.found = out.count > 0 or any(list_at(out.document, path) is not None for path in paths)
            out.sha256, out.size, out.undecodable = reader.sha256, reader.size, reader.undecodable
            out.headers = dict(response.headers)
            if self.recorder is not None:
                self.recorder.note(attempts, response, reader.sha256)
            return out

        return attempts.run(self.max_attempts, lambda guard: send(attempts, guard, consume))

    def probe(self, url: str) -> LinkProbe:
        """HEAD the link (GET without reading the body when HEAD is refused); never raises.

        A target the address policy refuses is not contacted: `refused` is set, no status."""
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

    def _document(self, method: str, url: str, params, headers, json_body) -> JsonResponse:
        attempts = Attempts(self, method, url, params, headers, json_body)

        def consume(reader: BodyReader, response: Any) -> JsonResponse:
            content_type = response.headers.get("Content-Type", "")
            data = json_document(reader, content_type)
            if self.recorder is not None:
                self.recorder.note(attempts, response, reader.sha256)
            return JsonResponse(
                data,
                strip_secrets(response.url),
                response.status_code,
                reader.sha256,
                dict(response.headers),
                reader.size,
                reader.undecodable,
            )

        return attempts.run(self.max_attempts, lambda guard: send(attempts, guard, consume))

    def _probe_once(self, method: str, url: str) -> LinkProbe:
        attempts = Attempts(self, method, url, None, {"Accept": "*/*"})

        def consume(_reader: BodyReader, response: Any) -> LinkProbe:
            content_type = response.headers.get("Content-Type")
            status = response.status_code
            return LinkProbe(attempts.shown, status, None, method, strip_secrets(response.url), content_type)

        try:
            return attempts.run(
                self.probe_attempts, lambda guard: send(attempts, guard, consume, read_errors=False)
            )
        except RefusedError as error:
            return LinkProbe(attempts.shown, None, str(error), method, refused=True)
        except HttpError as error:
            return LinkProbe(attempts.shown, error.status, None if error.status else str(error), method)
