"""Paginators: small strategy objects, and the one loop that owns the guards.

A paginator only says which request comes first and which comes next. `paginate` fetches,
stops on an empty or short page, aborts when a page repeats an earlier one (a portal that
ignores the paging parameter), stops at `max_pages` with a warning, and passes the server's
own total along for drift checks. Paginators keep no state, so one can serve many harvests.

A catalog's pages come one after another (the next request is read off this page), each a round
trip; from the second page on, while the caller reads one page into records, the next is already
on its way (`_ahead`): still one catalog request in flight, the same requests in the same order.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from wwc_pipeline.http import strip_secrets

log = logging.getLogger(__name__)
# The server's count may differ from what paging returned by this share of the larger of the two
# before it is a warning: a busy catalog gains or loses a few entries while it is paged.
COUNT_TOLERANCE = 0.005


class PagingError(Exception):
    """Paging cannot go on: the one-line message says why and where."""


class PageLimitReached(Exception):
    """Raised by a paginator's `next` when the API allows no further page; becomes a warning."""


@dataclass(frozen=True)
class PageRequest:
    url: str
    params: dict[str, Any]


@dataclass
class Page:
    number: int  # 1-based
    url: str  # the URL fetched (final, secrets stripped)
    items: list
    data: Any  # the whole parsed document
    digest: str  # sha256 of the raw body
    total: int | None = None  # the server's own count, when it gives one
    warnings: list[str] = field(default_factory=list)
    undecodable: int = 0  # byte sequences in the body that were not valid text (replaced by U+FFFD)


class Paginator(Protocol):
    page_size: int | None  # a page shorter than this is the last; None: no such rule

    def first(self, url: str, params: Mapping[str, Any]) -> PageRequest: ...

    def next(self, request: PageRequest, items: list, data: Any) -> PageRequest | None: ...


@dataclass(frozen=True)
class OffsetPaginator:
    """`limit`/`offset` paging (CKAN rows/start, ODS limit/offset, Hub limit/startindex)."""

    limit_param: str
    offset_param: str
    page_size: int
    max_offset_plus_limit: int | None = None  # e.g. 10000 on ODS and Socrata Discovery
    zero_based: bool = True  # False: the first item is number 1 (OGC `startindex`)

    def first(self, url: str, params: Mapping[str, Any]) -> PageRequest:
        start = 0 if self.zero_based else 1
        limit = min(self.page_size, self.max_offset_plus_limit or self.page_size)
        return PageRequest(url, {**params, self.limit_param: limit, self.offset_param: start})

    def next(self, request: PageRequest, items: list, data: Any) -> PageRequest | None:
        # advance by what came back, not by what was asked: a server may clamp the page size
        offset = int(request.params[self.offset_param]) + len(items)
        limit = self.page_size
        if self.max_offset_plus_limit is not None:
            reached = offset - (0 if self.zero_based else 1)
            if reached >= self.max_offset_plus_limit:
                raise PageLimitReached(
                    f"offset paging stops at {self.max_offset_plus_limit} items (the API's ceiling);"
                    " items past it are not reachable this way"
                )
            limit = min(limit, self.max_offset_plus_limit - reached)
        return PageRequest(
            request.url, {**request.params, self.limit_param: limit, self.offset_param: offset}
        )


@dataclass(frozen=True)
class PageNumberPaginator:
    """`page`/`size` paging (Socrata /api/views.json, Metadata API, CKAN's deprecated `page`)."""

    page_param: str
    size_param: str | None
    page_size: int
    first_page: int = 1

    def first(self, url: str, params: Mapping[str, Any]) -> PageRequest:
        size = {self.size_param: self.page_size} if self.size_param else {}
        return PageRequest(url, {**params, **size, self.page_param: self.first_page})

    def next(self, request: PageRequest, items: list, data: Any) -> PageRequest | None:
        return PageRequest(
            request.url, {**request.params, self.page_param: int(request.params[self.page_param]) + 1}
        )


@dataclass(frozen=True)
class CursorPaginator:
    """The next request carries a cursor taken from the last item (Socrata's `scroll_id` = its id)."""

    cursor_param: str
    cursor_of: Callable[[Any], Any]
    size_param: str | None = None
    page_size: int | None = None
    initial_cursor: Any = None  # sent on the first request when not None (Socrata: "" = start scrolling)

    def first(self, url: str, params: Mapping[str, Any]) -> PageRequest:
        size = {self.size_param: self.page_size} if self.size_param and self.page_size else {}
        cursor = {} if self.initial_cursor is None else {self.cursor_param: self.initial_cursor}
        return PageRequest(url, {**params, **size, **cursor})

    def next(self, request: PageRequest, items: list, data: Any) -> PageRequest | None:
        try:
            cursor = self.cursor_of(items[-1])
        except (KeyError, IndexError, TypeError, AttributeError):
            cursor = None
        if cursor in (None, ""):
            where = strip_secrets(request.url)
            raise PagingError(f"cannot page past {where}: its last item has no {self.cursor_param} value")
        return PageRequest(request.url, {**request.params, self.cursor_param: cursor})


@dataclass(frozen=True)
class NextLinkPaginator:
    """The document names the next page's full URL (OGC `links[rel=next]`, Hydra `next`)."""

    next_url_of: Callable[[Any], str | None]
    page_size: int | None = None

    def first(self, url: str, params: Mapping[str, Any]) -> PageRequest:
        return PageRequest(url, dict(params))

    def next(self, request: PageRequest, items: list, data: Any) -> PageRequest | None:
        link = self.next_url_of(data)
        return PageRequest(link, {}) if link else None


def paginate(
    client: Any,
    url: str,
    base_params: Mapping[str, Any] | None,
    paginator: Paginator,
    items_of: Callable[[Any], list],
    total_of: Callable[[Any], int | None] | None = None,
    max_pages: int = 1000,
    key_of: Callable[[Any], Hashable] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Iterator[Page]:
    """Fetch page after page with `client.get_json` and yield them, with the guards described above.

    An empty page ends paging and is not yielded, unless it is the first or it carries the warning
    that the server's total disagrees; a first page that is empty while the server counts items
    raises (a parameter the API did not understand must not pass as "no datasets"). A page shorter than
    `paginator.page_size` ends paging unless the server's total says more items exist (a server
    may clamp the page size). `key_of` adds a guard: a page made only of items already seen
    aborts. The last page yielded carries the warnings (max_pages reached, ceiling, count drift).
    Raises PagingError (or http.HttpError from the client) when paging cannot go on.
    """
    request = paginator.first(url, base_params or {})
    seen_digests: dict[str, int] = {}
    seen_keys: set[Hashable] = set()
    fetched = 0
    shown = strip_secrets(url)
    ahead: Future | None = None
    for number in range(1, max_pages + 1):
        response = ahead.result() if ahead is not None else _fetch(client, request, headers)
        try:
            items = items_of(response.data)
        except (KeyError, IndexError, TypeError, AttributeError, ValueError):
            items = None
        if not isinstance(items, list):
            raise PagingError(
                f"{response.url} has no list of items where one was expected ({_shape(response.data)})"
            )
        total = _total(total_of, response.data)
        if not items:
            page = Page(number, response.url, items, response.data, response.sha256, total)
            page.undecodable = response.undecodable
            if number == 1 and total:
                raise PagingError(
                    f"{response.url} lists no items although the server counts {total}: "
                    "the API may not understand a parameter (nothing harvested)"
                )
            drift = count_drift(total, fetched) if number > 1 else None
            if drift:
                page.warnings.append(drift)
                log.warning("%s: %s", shown, drift)
            if number == 1 or page.warnings:
                yield page
            return
        earlier = seen_digests.get(response.sha256)
        if earlier is not None:
            raise PagingError(
                f"page {number} ({response.url}) is byte-identical to page {earlier}: "
                "the portal seems to ignore the paging parameters"
            )
        seen_digests[response.sha256] = number
        if key_of is not None:
            keys = {_key(key_of, item) for item in items} - {None}
            if keys and keys <= seen_keys:
                raise PagingError(
                    f"page {number} ({response.url}) repeats only items already seen: "
                    "the portal seems to ignore the paging parameters"
                )
            seen_keys |= keys
        fetched += len(items)
        page = Page(number, response.url, items, response.data, response.sha256, total)
        page.undecodable = response.undecodable
        following = _next_request(paginator, request, items, response.data, page)
        short = paginator.page_size is not None and len(items) < paginator.page_size
        if short and not (total is not None and fetched < total):
            following = None
        if following is not None and number == max_pages:
            page.warnings.append(f"stopped after {max_pages} pages (max_pages); the catalog may hold more")
            following = None
        drift = count_drift(total, fetched) if following is None else None
        if drift:
            page.warnings.append(drift)
        for warning in page.warnings:
            log.warning("%s: %s", shown, warning)
        # from the second page on: a caller that asked for it reads the catalog through (one that
        # stops after the first, e.g. ODS switching to its export, sends no request in vain)
        ahead = _ahead(client, following, headers) if following is not None and number > 1 else None
        yield page
        if following is None:
            return
        request = following


def _fetch(client: Any, request: PageRequest, headers: Mapping[str, str] | None) -> Any:
    return client.get_json(request.url, params=request.params or None, headers=headers)


def _ahead(client: Any, request: PageRequest, headers: Mapping[str, str] | None) -> Future:
    """The next page's request, sent from a thread of its own while the caller reads this page;
    the future's `result()` gives its answer or raises its error, as fetching it then would have.
    A harvest that stops before asking for it leaves the thread to end with the request (each
    request has its deadline), its answer unread."""
    ahead: Future = Future()

    def fetch() -> None:
        try:
            ahead.set_result(_fetch(client, request, headers))
        except BaseException as error:  # noqa: BLE001 - raised in the caller's thread by result()
            ahead.set_exception(error)

    threading.Thread(target=fetch, name="wwc-page-ahead", daemon=True).start()
    return ahead


def count_drift(total: int | None, fetched: int) -> str | None:
    """The warning when the server's own count and what was harvested differ beyond COUNT_TOLERANCE."""
    if total is None or total == fetched:
        return None
    if abs(total - fetched) <= COUNT_TOLERANCE * max(total, fetched):
        log.info("server counts %d items, paging returned %d (within tolerance)", total, fetched)
        return None
    return f"server counts {total} items, paging returned {fetched}"


def dedupe_by(key: Callable[[Any], Hashable]) -> Callable[[Iterable[Any]], tuple[list[Any], int]]:
    """A filter remembering keys across calls: `keep(items)` -> (first-seen items, duplicates dropped).

    Items whose key is None are kept (they cannot be compared); the caller decides about them.
    """
    seen: set[Hashable] = set()

    def keep(items: Iterable[Any]) -> tuple[list[Any], int]:
        fresh, dropped = [], 0
        for item in items:
            value = _key(key, item)
            if value is None:
                fresh.append(item)
            elif value in seen:
                dropped += 1
            else:
                seen.add(value)
                fresh.append(item)
        return fresh, dropped

    return keep


def _key(key: Callable[[Any], Hashable], item: Any) -> Hashable:
    try:
        return key(item)
    except (KeyError, IndexError, TypeError, AttributeError):
        return None


def _total(total_of: Callable[[Any], int | None] | None, data: Any) -> int | None:
    if total_of is None:
        return None
    try:
        value = total_of(data)
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _next_request(paginator: Paginator, request: PageRequest, items: list, data: Any, page: Page):
    try:
        return paginator.next(request, items, data)
    except PageLimitReached as limit:
        page.warnings.append(str(limit))
        return None


def _shape(data: Any) -> str:
    if isinstance(data, dict):
        error = data.get("error") or data.get("message")
        if error:
            return f"error: {' '.join(str(error).split())[:200]}"
        return "keys: " + ", ".join(list(data)[:8])
    return type(data).__name__
