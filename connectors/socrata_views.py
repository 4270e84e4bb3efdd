"""Socrata's older catalog list, `/api/views.json`: the harvest when the Discovery API has nothing.

Some Socrata domains (older or private-catalog sites) are listed by `/api/views.json` only: the
Discovery API answers 404, or answers and lists no asset for the domain. Paging (PLATFORMS.md
§1.3) is `limit` + 1-based `page`, and is not documented: a server may clamp the page size or
send the whole list at once. Both are tolerated: paging goes on while pages come back full,
and a page longer than asked for is the whole list. Entries are normalized by the views rules
of METRICS.md (`socrata.record_from_view`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from wwc_pipeline.connectors.socrata import record_from_view

from wwc_pipeline.config import PortalConfig
from wwc_pipeline.connector import HarvestPage
from wwc_pipeline.http import HttpClient, HttpError, NotJsonError
from wwc_pipeline.paging import PageNumberPaginator, PageRequest, PagingError, dedupe_by, paginate
from wwc_pipeline.text import present

VIEWS_PATH = "/api/views.json"
VIEWS_PAGE_SIZE = 100  # "Socrata caps each request at 100" (PLATFORMS.md §1.3): full pages go on
NOT_THERE = (404, 410)


@dataclass(frozen=True)
class ViewsPaginator(PageNumberPaginator):
    """Page numbers, but a page longer than asked for is the whole list (the server ignored paging)."""

    def next(self, request: PageRequest, items: list, data: Any) -> PageRequest | None:
        if self.size_param and len(items) > int(request.params[self.size_param]):
            return None
        return super().next(request, items, data)


def view_id(view: Any) -> str:
    return view["id"]


def not_an_api(error: Exception) -> bool:
    """The URL answered, but not as this API: 404/410, an HTML page, or JSON of another shape."""
    if isinstance(error, NotJsonError | PagingError):
        return True
    return isinstance(error, HttpError) and error.status in NOT_THERE


def harvest_views(portal: PortalConfig, client: HttpClient) -> Iterator[HarvestPage]:
    """Every view `/api/views.json` lists, one HarvestPage per page, deduplicated by id."""
    token = portal.app_token()
    headers = {"X-App-Token": token} if token else None
    paginator = ViewsPaginator("page", "limit", VIEWS_PAGE_SIZE, first_page=1)
    keep = dedupe_by(view_id)
    pages = paginate(
        client,
        portal.url + VIEWS_PATH,
        {},
        paginator,
        items_of=_views_list,
        max_pages=portal.max_pages,
        key_of=view_id,
        headers=headers,
    )
    for page in pages:
        fresh, dropped = keep(page.items)
        usable = [view for view in fresh if isinstance(view, dict) and present(view.get("id"))]
        warnings = list(page.warnings)
        if dropped:
            warnings.append(
                f"{VIEWS_PATH} page {page.number}: {dropped} views repeat an id already harvested"
            )
        if len(usable) < len(fresh):
            warnings.append(
                f"{VIEWS_PATH} page {page.number}: {len(fresh) - len(usable)} views without id skipped"
            )
        records = [record_from_view(view, portal.domain, portal.url) for view in usable]
        yield HarvestPage(records, page.digest, page.url, None, warnings)


def with_views_fallback(
    portal: PortalConfig, client: HttpClient, discovery: Iterator[HarvestPage]
) -> Iterator[HarvestPage]:
    """The Discovery pages; or, when the Discovery API is not there or lists nothing, the views."""
    try:
        first = next(discovery, None)
    except (HttpError, PagingError) as error:
        if not not_an_api(error):
            raise
        yield from _views_instead_of(portal, client, error)
        return
    if first is None or first.records or first.total_hint:
        if first is not None:
            yield first
        yield from discovery
        return
    yield from _views_or_empty(portal, client, first)


def _views_instead_of(portal: PortalConfig, client: HttpClient, failed: Exception) -> Iterator[HarvestPage]:
    """The Discovery API is not there: the views, or both reasons when they are not there either."""
    note = f"the Discovery API is not available here ({failed}); the catalog was read from {VIEWS_PATH}"
    try:
        views = harvest_views(portal, client)
        first = next(views)
    except (HttpError, PagingError) as error:
        message = f"{failed}; {VIEWS_PATH} did not answer either: {error}"
        if isinstance(failed, HttpError):
            raise HttpError(message, failed.url, failed.status, failed.attempts) from None
        raise PagingError(message) from None
    yield _noted(first, note)
    yield from views


def _views_or_empty(portal: PortalConfig, client: HttpClient, empty: HarvestPage) -> Iterator[HarvestPage]:
    """The Discovery API lists nothing for the domain: the views when they list something."""
    try:
        views = harvest_views(portal, client)
        first = next(views)
    except (HttpError, PagingError) as error:
        if not not_an_api(error):
            raise
        empty.warnings.append(f"{VIEWS_PATH} is not available either ({error})")
        yield empty
        return
    if not first.records:
        empty.warnings.append(f"{VIEWS_PATH} lists no views either")
        yield empty
        return
    note = f"the Discovery API lists no assets for this domain; the catalog was read from {VIEWS_PATH}"
    yield _noted(first, note)
    yield from views


def _noted(page: HarvestPage, note: str) -> HarvestPage:
    """The views' first page, saying where the catalog came from (a reviewer must see it)."""
    page.warnings.insert(0, note)
    return page


def _views_list(data: Any) -> list:
    if not isinstance(data, list):
        raise TypeError("a views list is a JSON array")
    return data
