"""Conditional requests: note a harvest's catalog requests and their validators, ask again next run.

A harvest is a function of the answers it got: the connector reads each page and decides the
next request from it. So when every request of the previous harvest, sent again in the same
order with its `ETag` (If-None-Match) or `Last-Modified` (If-Modified-Since), answers 304, the
catalog is byte for byte what it was, and the previous snapshot's records stand without any
page being fetched or parsed. One request that answers anything else, or that cannot be sent
again as it was (a POST, a secret in its parameters or headers, no validator), and the whole
catalog is harvested again (pages of a catalog shift when one dataset is added: a page by
position cannot be trusted on its own).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("wwc_pipeline")
NOT_MODIFIED = 304


@dataclass(frozen=True)
class PageValidator:
    """One request of a harvest as it can be sent again: a GET of `url` (query included)."""

    url: str
    etag: str | None
    last_modified: str | None

    def conditional_headers(self) -> dict[str, str]:
        if self.etag:  # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2): send one
            return {"If-None-Match": self.etag}
        return {"If-Modified-Since": self.last_modified} if self.last_modified else {}

    def as_json(self) -> dict[str, str | None]:
        return {"url": self.url, "etag": self.etag, "last_modified": self.last_modified}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PageValidator:
        return cls(str(data["url"]), data.get("etag"), data.get("last_modified"))


@dataclass
class ValidatorLog:
    """The document requests of one harvest, in order (`HttpClient.recording`).

    `replayable` turns False for good at the first request that cannot be revalidated. Every
    document's body digest is kept too, in order (`answers`): a portal that sends no validators
    can still be found unchanged after its harvest, when it read the same bytes as the last one."""

    pages: list[PageValidator] = field(default_factory=list)
    replayable: bool = True
    bodies: list[str] = field(default_factory=list)  # sha256 of each document read, in order
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def note(self, attempts: Any, response: Any, body_sha256: str | None = None) -> None:
        """Called by the client after a document answered 2xx and was read (`attempts`:
        http_send.Attempts; `body_sha256`: the digest of the bytes read)."""
        etag = response.headers.get("ETag")
        last_modified = response.headers.get("Last-Modified")
        full = str(response.request.url) if getattr(response, "request", None) is not None else ""
        with self._lock:
            self.bodies.append(body_sha256 or "")
            if (
                attempts.method != "GET"
                or attempts.secrets  # a token in the query or headers is never stored
                or not (etag or last_modified)
                or not full
                or response.history  # redirected: a 304 of the first URL would not vouch for the last
            ):
                self.replayable = False
                return
            self.pages.append(PageValidator(full, etag, last_modified))

    def validators(self) -> list[PageValidator] | None:
        """The pages to revalidate next run, or None when this harvest cannot be replayed."""
        return list(self.pages) if self.replayable and self.pages else None

    def answers(self) -> str | None:
        """One digest of every document this harvest read, in order; None when a body's digest
        is missing. A harvest is a function of its answers (module docstring): the same answers
        under the same settings and code are the same records."""
        with self._lock:
            bodies = list(self.bodies)
        if not bodies or not all(bodies):
            return None
        return hashlib.sha256("\n".join(bodies).encode()).hexdigest()


def revalidate(client: Any, pages: list[PageValidator]) -> bool:
    """True when every page answers 304 to its conditional GET (`client`: an http.HttpClient view
    of the portal), `per_host` of them at once (the URLs are known: no page waits for the one
    before it); the first that does not ends it. Any error counts as "changed" (the full harvest
    that follows reports it properly)."""
    from wwc_pipeline.fetch_ahead import fetched_ahead, width_for

    if not pages or not all(page.conditional_headers() for page in pages):
        return False
    width = min(width_for(client), len(pages))  # one page: asked here, no thread for it
    answers = fetched_ahead(pages, lambda page: _status(client, page), width)
    try:
        return all(status == NOT_MODIFIED for _page, status in answers)
    finally:
        answers.close()  # a page under way past the first change is waited for, its answer unread


def _status(client: Any, page: PageValidator) -> int | None:
    """The status a conditional GET of the page answers (None: it could not be had)."""
    from wwc_pipeline.http_send import Attempts, send

    try:
        attempts = Attempts(client, "GET", page.url, None, page.conditional_headers())
        status_of = lambda _reader, response: response.status_code  # noqa: E731 - the body is not read
        return attempts.run(
            client.max_attempts, lambda guard: send(attempts, guard, status_of, read_errors=False)
        )
    except Exception as error:  # noqa: BLE001 - changed or unreachable: harvest in full
        log.info("revalidating %s: %s", page.url, error)
        return None
