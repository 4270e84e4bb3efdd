"""One request, tried until it succeeds or there is no point: the retry loop and the error lines.

`Attempts.run` retries what is worth retrying (429/5xx, a cut connection, a body that stops
early) with backoff that honours Retry-After, never past a deadline; `send` makes one attempt
under its `AttemptGuard` and turns whatever went wrong into `Retryable` or `Final` with a
reason a user can read. The first line of every error names the method and URL (secrets
stripped) and the reason.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import requests
from requests.models import PreparedRequest
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from wwc_pipeline.http_body import BodyReader
from wwc_pipeline.http_deadline import AttemptGuard, Deadline, DeadlinePassed
from wwc_pipeline.http_guard import SECRET_PARAMS, is_secret_header, strip_secrets
from wwc_pipeline.http_policy import AddressRefused
from wwc_pipeline.http_types import DeadlineError, Final, HttpError, RefusedError, Retryable
from wwc_pipeline.http_waits import is_retry_status, server_wait

if TYPE_CHECKING:
    from wwc_pipeline.http import HttpClient

T = TypeVar("T")
log = logging.getLogger("wwc_pipeline.http")
_ERRNO_TEXT = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")
_SSL_TEXT = re.compile(r"\[SSL(?:: [A-Z0-9_]+)?\] ([^'\"(]+)")
ERROR_BODY_BYTES = 65536


class Attempts:
    """One logical request (method, URL, parameters) and its retries, as one client view makes them."""

    def __init__(self, client: HttpClient, method: str, url: str, params, headers, json_body: Any = None):
        client.check_url(url)
        self.client, self.method, self.url = client, method, url
        self.params, self.headers, self.json_body = params, headers, json_body
        prepared = PreparedRequest()
        try:
            prepared.prepare_url(url, params)
            full = prepared.url or url
        except requests.RequestException:
            full = url
        self.shown = strip_secrets(full)
        self.label = f"{method} {self.shown}"
        self.secrets = _secrets(client.session.headers, headers, params)

    def deadline(self) -> Deadline:
        """The nearest of this attempt's own deadline and the view's (a harvest's, a run's)."""
        own = Deadline.after(
            self.client.request_deadline, f"the request deadline ({self.client.request_deadline:g} s)"
        )
        return min((own, *self.client.deadlines), key=lambda deadline: deadline.at)

    def run(self, attempts: int, attempt: Callable[[AttemptGuard], T]) -> T:
        tried = 0

        def once() -> T:
            nonlocal tried
            for deadline in self.client.deadlines:
                if deadline.remaining() <= 0:
                    raise Final(f"{deadline.what} passed", kind=DeadlineError)
            tried += 1
            with self.client.host_slot(self.url), AttemptGuard(self.deadline()) as guard:
                return attempt(guard)

        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=self._wait,
            retry=retry_if_exception_type(Retryable),
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda state: log.warning(
                "%s: %s; retry %d of %d in %.1f s",
                self.label,
                self.redact(str(state.outcome.exception())),
                state.attempt_number,
                attempts - 1,
                state.next_action.sleep if state.next_action else 0.0,
            ),
        )
        try:
            return retrying(once)
        except Retryable as error:
            times = f" after {tried} attempts" if tried > 1 else ""
            message = self.redact(f"{self.label} failed: {error.reason}{times}")
            raise HttpError(message, self.shown, error.status, tried, error.body) from None
        except Final as error:
            message = self.redact(f"{self.label} failed: {error.reason}")
            raise error.kind(message, self.shown, error.status, tried, error.body) from None

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def _wait(self, state: RetryCallState) -> float:
        client = self.client
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, Retryable) and error.retry_after is not None:
            return min(error.retry_after, client.max_wait)
        return min(client.backoff * 2 ** (state.attempt_number - 1), client.max_wait)

    def _sleep(self, seconds: float) -> None:
        for deadline in self.client.deadlines:
            if deadline.remaining() < seconds:
                raise Final(
                    f"{deadline.what} would pass during the {seconds:g} s wait before a retry",
                    kind=DeadlineError,
                )
        self.client._sleep(seconds)


def send(
    attempts: Attempts,
    guard: AttemptGuard,
    consume: Callable[[BodyReader | None, requests.Response], T],
    read_errors: bool = True,
) -> T:
    """One attempt: the request, the status, then `consume(reader, response)` on a 2xx (on any
    status when `read_errors` is False: a link probe reads no body at all)."""
    client = attempts.client
    if guard.expired:
        raise _late(guard)
    client.wait_turn(attempts.url)
    try:
        response = client.session.request(
            attempts.method,
            attempts.url,
            params=attempts.params,
            headers=attempts.headers,
            json=attempts.json_body,
            timeout=client.timeout,
            stream=True,
            allow_redirects=True,
        )
    except Exception as error:  # noqa: BLE001 - every failure becomes a reason, nothing else escapes
        raise _reason(error, guard, client.timeout) from None
    with response:
        status = response.status_code
        if not read_errors:
            if is_retry_status(status):
                raise Retryable(f"HTTP {status}", status, server_wait(response))
            return consume(None, response)
        if status == 202:  # Socrata: "Request Processing - retry, you'll get a 200 when complete"
            _error_body(response, guard, client)
            raise Retryable(
                "HTTP 202 (the server is still processing the request)", status, server_wait(response)
            )
        if is_retry_status(status):
            body = _error_body(response, guard, client)
            raise Retryable(f"HTTP {status}{_error_detail(body)}", status, server_wait(response), body)
        if status >= 400:
            body = _error_body(response, guard, client)
            raise Final(f"HTTP {status}{_error_detail(body)}", status, body)
        return consume(BodyReader(response, client.max_bytes, guard, client.timeout[1]), response)


def _late(guard: AttemptGuard) -> Final:
    return Final(f"{guard.deadline.what} passed before an answer came", kind=DeadlineError)


def _reason(error: Exception, guard: AttemptGuard, timeout: tuple[float, float]) -> Exception:
    """What went wrong before an answer, as Retryable (worth another try) or Final."""
    if isinstance(error, DeadlinePassed) or (guard.expired and not isinstance(error, AddressRefused)):
        return _late(guard)
    if isinstance(error, AddressRefused):
        return Final(f"refused, not contacted: {error}", kind=RefusedError)
    if isinstance(error, HttpError):  # the URL guard refused where a redirect pointed
        return Final(f"redirect {error}")
    if isinstance(error, requests.ConnectTimeout):
        return Retryable(f"timed out connecting (no connection within {timeout[0]:g} s)")
    if isinstance(error, requests.Timeout):
        return Retryable(f"timed out (no answer within {timeout[1]:g} s)")
    if isinstance(error, requests.TooManyRedirects):
        return Final("too many redirects")
    if isinstance(error, requests.exceptions.SSLError):
        found = _SSL_TEXT.search(str(error))
        reason = f"TLS error ({found.group(1).strip() if found else 'handshake failed'})"
        # a connection cut during the handshake is worth another try; a bad certificate is not
        return Retryable(reason) if "EOF" in str(error) else Final(reason)
    if isinstance(error, requests.ConnectionError):
        found = _ERRNO_TEXT.search(str(error))
        return Retryable(f"connection failed ({found.group(1).strip() if found else 'network error'})")
    if isinstance(error, requests.RequestException):
        return Final(type(error).__name__)
    raise error


def _error_body(response: requests.Response, guard: AttemptGuard, client: HttpClient) -> bytes:
    """Up to 64 KiB of an error body (a longer or broken one is dropped, not an error of its own)."""
    reader = BodyReader(response, ERROR_BODY_BYTES, guard, client.timeout[1])
    try:
        return b"".join(reader.chunks())
    except (Final, Retryable):
        return b""


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


def _secrets(session_headers: Mapping[str, str], headers, params) -> list[str]:
    """Values that must never be shown: secret headers (and the key of `Apikey KEY`), secret params."""
    found: list[str] = []
    for name, value in {**session_headers, **(headers or {})}.items():
        if value and is_secret_header(name):
            found += [str(value), *str(value).split()[1:]]
    for name, value in (params or {}).items():
        if value and str(name).lower() in SECRET_PARAMS:
            found.append(str(value))
    return sorted({value for value in found if len(value) >= 4}, key=len, reverse=True)
