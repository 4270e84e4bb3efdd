"""Keeping secrets secret and redirects honest: what the HTTP client hides and refuses.

Tokens travel in headers (`X-App-Token`, `Authorization: Apikey ...`) or query parameters; none
may reach a log line, an error message, or a host the request was redirected to.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

import requests

SECRET_PARAMS = frozenset(
    {"app_token", "$$app_token", "apikey", "api_key", "key", "token", "access_token", "password", "secret"}
)
_SECRET_HEADER_WORDS = ("token", "key", "auth", "secret", "cookie", "password")
_KEEP_ON_REDIRECT = frozenset({"cookie", "proxy-authorization"})  # requests scopes these itself
_QUERY_PAIR = re.compile(r"([?&])([^=&?#\s\"']+)=([^&#\s\"']*)")


def is_secret_header(name: str) -> bool:
    return any(word in name.lower() for word in _SECRET_HEADER_WORDS)


def strip_secrets(url: str) -> str:
    """The URL with the values of secret-looking query parameters replaced by ***."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in parse_qsl(parts.query, True)]
    return urlunsplit(parts._replace(query=urlencode(pairs, safe="$,:/*")))


def redact_query_text(text: str) -> str:
    """Any text with the values of secret query parameters (even %-encoded names) replaced by ***."""

    def hide(match: re.Match) -> str:
        secret = unquote(match.group(2)).lower() in SECRET_PARAMS
        return f"{match.group(1)}{match.group(2)}={'***' if secret else match.group(3)}"

    return _QUERY_PAIR.sub(hide, text)


class _SecretQueryFilter(logging.Filter):
    """urllib3 logs every request line at DEBUG, query string included: hide secret values there."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_query_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_SecretQueryFilter())


class GuardedSession(requests.Session):
    """A session that checks every redirect target with the client's URL guard, and never reads
    the body of a redirect (requests would read it whole: a decompression bomb fits in a 302)."""

    def __init__(self, guard: Callable[[str], None]):
        super().__init__()
        self._guard = guard

    def get_redirect_target(self, resp):  # noqa: ANN001 - requests' signature
        target = super().get_redirect_target(resp)
        if target:
            if resp._content is False:  # an unread body (a 302 may carry one): drop the connection
                resp.close()  # before anything else, so no later request reuses it half-read
                resp._content = b""
            self._guard(urljoin(resp.url, target))  # a refusal raises: the response is closed already
        return target

    def rebuild_auth(self, prepared_request, response):  # noqa: ANN001 - requests' signature
        """requests drops only `Authorization` when a redirect leaves the host (or goes from https
        to http); a token in `X-App-Token` or any other secret-looking header must not follow either."""
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in list(prepared_request.headers):
                if is_secret_header(name) and name.lower() not in _KEEP_ON_REDIRECT:
                    del prepared_request.headers[name]
        super().rebuild_auth(prepared_request, response)
