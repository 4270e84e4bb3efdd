"""What the HTTP client hands back: its answers, and its one-line errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


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


class RefusedError(HttpError):
    """The address policy refused the target: no request was made."""


class DeadlineError(HttpError):
    """A request, a harvest or a run ran out of time; never retried."""


class Retryable(Exception):
    """One attempt failed in a way worth trying again (a 429/5xx, a cut connection, a cut body)."""

    def __init__(self, reason: str, status: int | None = None, retry_after: float | None = None, body=b""):
        super().__init__(reason)
        self.reason, self.status, self.retry_after, self.body = reason, status, retry_after, body


class Final(Exception):
    """One attempt failed in a way another attempt would repeat (bad JSON that arrived whole, a cap)."""

    def __init__(self, reason: str, status: int | None = None, body=b"", kind: type[HttpError] = HttpError):
        super().__init__(reason)
        self.reason, self.status, self.body, self.kind = reason, status, body, kind


@dataclass
class JsonResponse:
    """A whole JSON document. `undecodable`: byte sequences that were not valid text, replaced."""

    data: Any
    url: str  # the final URL, secrets stripped
    status: int
    sha256: str  # of the body as received (after Content-Encoding)
    headers: Mapping[str, str] = field(default_factory=dict)
    size: int = 0
    undecodable: int = 0


@dataclass
class ItemsResponse(Generic[T]):
    """The items of a JSON document's one big list, converted one by one as they streamed in.

    `items` holds what `convert` returned (None results are dropped and counted in `skipped`);
    `flagged` the positions in `items` whose raw item held replaced (undecodable) bytes;
    `count` how many raw items the list had (up to `max_items`); `found` whether the list was
    there at all; `document` the whole parsed body when it was small (for shape messages).
    """

    items: list[T]
    url: str
    status: int
    sha256: str
    count: int = 0
    skipped: int = 0
    found: bool = False
    flagged: list[int] = field(default_factory=list)
    undecodable: int = 0
    size: int = 0
    document: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LinkProbe:
    """What a link answered: its status code, or the error text when it gave none.

    `refused`: the address policy kept the probe from being made (an internal address)."""

    url: str
    status: int | None = None
    error: str | None = None
    method: str = "HEAD"
    final_url: str | None = None
    content_type: str | None = None
    refused: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 400
