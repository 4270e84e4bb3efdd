"""Paginators and the paging loop's guards, against a fake JSON API (no network needed)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from urllib.parse import urlencode

import pytest

from wwc_pipeline.http import HttpError, JsonResponse
from wwc_pipeline.paging import (
    CursorPaginator,
    NextLinkPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    PagingError,
    dedupe_by,
    paginate,
)

ITEMS = [{"id": f"id-{n:03d}"} for n in range(25)]
URL = "http://portal.test/api/list"


class FakeApi:
    """Answers get_json with `answer(params)`; remembers the params of every call."""

    def __init__(self, answer: Callable[[dict], object]):
        self.answer = answer
        self.calls: list[dict] = []

    def get_json(self, url, params=None, headers=None):
        params = dict(params or {})
        self.calls.append(params)
        data = self.answer(params)
        body = json.dumps(data).encode()
        shown = f"{url}?{urlencode(params)}" if params else url
        return JsonResponse(data, shown, 200, hashlib.sha256(body).hexdigest())


def offset_api(items=ITEMS, clamp=None, total=None):
    def answer(params):
        limit = min(int(params["limit"]), clamp or 10**9)
        start = int(params["offset"])
        return {"count": len(items) if total is None else total, "results": items[start : start + limit]}

    return FakeApi(answer)


def results(data):
    return data["results"]


def count(data):
    return data["count"]


def test_offset_paging_stops_on_a_short_page():
    api = offset_api()
    pages = list(paginate(api, URL, {"q": "x"}, OffsetPaginator("limit", "offset", 10), results, count))
    assert [p["offset"] for p in api.calls] == [0, 10, 20]
    assert all(p["q"] == "x" and p["limit"] == 10 for p in api.calls)
    assert [len(p.items) for p in pages] == [10, 10, 5]
    assert [p.number for p in pages] == [1, 2, 3] and pages[0].total == 25
    assert [i for p in pages for i in p.items] == ITEMS
    assert pages[-1].warnings == []
    assert pages[1].url == URL + "?q=x&limit=10&offset=10"


def test_offset_paging_on_an_exact_multiple_ends_with_an_unyielded_empty_page():
    api = offset_api(ITEMS[:20])
    pages = list(paginate(api, URL, None, OffsetPaginator("limit", "offset", 10), results, count))
    assert [p["offset"] for p in api.calls] == [0, 10, 20]
    assert [len(p.items) for p in pages] == [10, 10]


def test_a_server_that_clamps_the_page_size_is_followed_by_its_total():
    # CKAN silently cuts rows to 1000: a page shorter than asked is not the last while the count says more
    api = offset_api(clamp=10)
    pages = list(paginate(api, URL, None, OffsetPaginator("limit", "offset", 20), results, count))
    assert [p["offset"] for p in api.calls] == [0, 10, 20]
    assert sum(len(p.items) for p in pages) == 25


def test_offset_ceiling_shrinks_the_last_request_and_warns():
    items = [{"id": n} for n in range(150)]
    api = offset_api(items)
    paginator = OffsetPaginator("limit", "offset", 40, max_offset_plus_limit=100)
    pages = list(paginate(api, URL, None, paginator, results, count))
    assert [(p["offset"], p["limit"]) for p in api.calls] == [(0, 40), (40, 40), (80, 20)]
    assert sum(len(p.items) for p in pages) == 100
    assert any("stops at 100 items" in w for w in pages[-1].warnings)
    assert any("server counts 150 items, paging returned 100" in w for w in pages[-1].warnings)


def test_one_based_offsets():
    def answer(params):
        start = int(params["startindex"]) - 1
        return {"features": ITEMS[start : start + int(params["limit"])]}

    api = FakeApi(answer)
    paginator = OffsetPaginator("limit", "startindex", 10, zero_based=False)
    pages = list(paginate(api, URL, None, paginator, lambda d: d["features"]))
    assert [p["startindex"] for p in api.calls] == [1, 11, 21]
    assert [i for p in pages for i in p.items] == ITEMS


def test_cursor_paging_with_the_last_id():
    def answer(params):
        after = params.get("scroll_id", "")
        rest = [item for item in ITEMS if item["id"] > after]
        return {"resultSetSize": len(ITEMS), "results": rest[: int(params["limit"])]}

    api = FakeApi(answer)
    paginator = CursorPaginator("scroll_id", lambda item: item["id"], size_param="limit", page_size=10)
    pages = list(paginate(api, URL, None, paginator, results, lambda d: d["resultSetSize"]))
    assert [c.get("scroll_id") for c in api.calls] == [None, "id-009", "id-019"]
    assert [i for p in pages for i in p.items] == ITEMS


def test_cursor_paging_fails_clearly_when_the_last_item_has_no_cursor():
    api = FakeApi(lambda params: {"results": [{"name": "no id"}] * 2})
    paginator = CursorPaginator("scroll_id", lambda item: item["id"], size_param="limit", page_size=2)
    with pytest.raises(PagingError, match="its last item has no scroll_id value"):
        list(paginate(api, URL, None, paginator, results))


def test_a_portal_that_ignores_paging_is_caught_by_identical_pages():
    api = FakeApi(lambda params: {"results": ITEMS[:10]})
    with pytest.raises(PagingError, match="page 2 .* is byte-identical to page 1"):
        list(paginate(api, URL, None, OffsetPaginator("limit", "offset", 10), results))
    assert len(api.calls) == 2


def test_repeated_items_with_changing_bodies_are_caught_by_key():
    # Socrata adds `timings` to every body, so a repeated page is not byte-identical
    api = FakeApi(lambda params: {"timings": len(api.calls), "results": ITEMS[:10]})
    with pytest.raises(PagingError, match="page 2 .* repeats only items already seen"):
        list(
            paginate(
                api, URL, None, OffsetPaginator("limit", "offset", 10), results, key_of=lambda i: i["id"]
            )
        )


def test_max_pages_stops_with_a_warning():
    api = offset_api()
    pages = list(paginate(api, URL, None, OffsetPaginator("limit", "offset", 5), results, count, max_pages=2))
    assert len(pages) == 2 and len(api.calls) == 2
    assert "stopped after 2 pages (max_pages)" in pages[-1].warnings[0]


def test_an_empty_catalog_yields_its_one_empty_page():
    api = offset_api([])
    pages = list(paginate(api, URL, None, OffsetPaginator("limit", "offset", 10), results, count))
    assert len(pages) == 1 and pages[0].items == [] and pages[0].total == 0


def test_page_number_paging():
    def answer(params):
        start = (params["page"] - 1) * params["limit"]
        return ITEMS[start : start + params["limit"]]

    api = FakeApi(answer)
    pages = list(paginate(api, URL, None, PageNumberPaginator("page", "limit", 10), lambda d: d))
    assert [c["page"] for c in api.calls] == [1, 2, 3]
    assert [i for p in pages for i in p.items] == ITEMS


def test_next_link_paging():
    def answer(params):
        start = int(params.get("startindex", 1)) - 1
        following = start + 10 < len(ITEMS)
        links = [{"rel": "next", "href": f"{URL}?startindex={start + 11}"}] if following else []
        return {"features": ITEMS[start : start + 10], "links": links}

    def next_of(data):
        return next((link["href"] for link in data["links"] if link["rel"] == "next"), None)

    class LinkFollower(FakeApi):
        def get_json(self, url, params=None, headers=None):
            query = dict(part.split("=") for part in url.partition("?")[2].split("&") if part)
            return super().get_json(url.partition("?")[0], {**query, **(params or {})})

    api = LinkFollower(answer)
    pages = list(paginate(api, URL, None, NextLinkPaginator(next_of), lambda d: d["features"]))
    assert [c.get("startindex") for c in api.calls] == [None, "11", "21"]
    assert [i for p in pages for i in p.items] == ITEMS


def test_a_body_without_items_is_a_clear_error():
    api = FakeApi(lambda params: {"error": "Invalid parameter: domain"})
    with pytest.raises(
        PagingError, match="no list of items where one was expected \\(error: Invalid parameter"
    ):
        list(paginate(api, URL, None, OffsetPaginator("limit", "offset", 10), results))


def test_dedupe_by_keeps_first_seen_across_pages():
    keep = dedupe_by(lambda item: item["id"])
    assert keep([{"id": 1}, {"id": 2}, {"id": 1}]) == ([{"id": 1}, {"id": 2}], 1)
    assert keep([{"id": 2}, {"id": 3}, {"x": 0}]) == ([{"id": 3}, {"x": 0}], 1)


def test_an_empty_first_page_while_the_server_counts_items_is_an_error():
    # a parameter the API does not understand (Socrata's unknown params filter silently)
    api = offset_api([], total=40)
    with pytest.raises(
        PagingError, match=r"\?limit=10&offset=0 lists no items although the server counts 40"
    ):
        list(paginate(api, URL, None, OffsetPaginator("limit", "offset", 10), results, count))


def test_a_total_larger_than_what_paging_found_is_a_warning_on_the_last_page():
    api = offset_api(total=30)  # 25 items served, 30 counted
    pages = list(paginate(api, URL, None, OffsetPaginator("limit", "offset", 10), results, count))
    assert [len(p.items) for p in pages] == [10, 10, 5, 0]  # the empty page is yielded for its warning
    assert pages[-1].warnings == ["server counts 30 items, paging returned 25"]
    assert all(not p.warnings for p in pages[:-1])


def test_secret_query_values_stay_out_of_paging_messages(caplog):
    api = FakeApi(lambda params: {"results": [{"name": "no id"}]})
    paginator = CursorPaginator("scroll_id", lambda item: item["id"], size_param="limit", page_size=1)
    with pytest.raises(PagingError) as caught:
        list(paginate(api, URL + "?apikey=s3cret-key", None, paginator, results))
    assert "s3cret-key" not in str(caught.value) and "apikey=***" in str(caught.value)


class CountedApi(FakeApi):
    """A FakeApi that signals each call as it comes (`called[n]`: the (n+1)th call arrived)."""

    def __init__(self, answer: Callable[[dict], object]):
        super().__init__(answer)
        self.called = [threading.Event() for _ in range(20)]

    def get_json(self, url, params=None, headers=None):
        response = super().get_json(url, params, headers)
        self.called[len(self.calls) - 1].set()
        return response


def test_from_the_second_page_on_the_next_is_asked_for_while_this_one_is_read():
    api = CountedApi(offset_api().answer)
    pages = paginate(api, URL, None, OffsetPaginator("limit", "offset", 10), results, count)
    assert next(pages).number == 1
    assert next(pages).number == 2
    # the caller holds page 2 and has not asked for more: page 3 is on its way all the same
    assert api.called[2].wait(5), "the third page was not asked for while the second was read"
    assert [page.number for page in pages] == [3]
    assert [call["offset"] for call in api.calls] == [0, 10, 20]  # the same requests, in order


def test_a_caller_that_stops_after_the_first_page_sends_no_second_request():
    api = CountedApi(offset_api(items=ITEMS * 3).answer)
    pages = paginate(api, URL, None, OffsetPaginator("limit", "offset", 10), results, count)
    assert next(pages).number == 1
    # e.g. OpenDataSoft switching to its export once the first page tells the catalog's size
    assert not api.called[1].wait(0.3), "a second page was asked for before the caller wanted it"
    pages.close()
    assert [call["offset"] for call in api.calls] == [0]


def test_an_error_on_a_page_asked_for_ahead_reaches_the_caller_when_it_asks_for_that_page():
    def answer(params):
        if int(params["offset"]) == 20:
            raise HttpError("GET page 3 returned HTTP 503", URL, 503)
        return offset_api().answer(params)

    pages = paginate(FakeApi(answer), URL, None, OffsetPaginator("limit", "offset", 10), results, count)
    assert [next(pages).number, next(pages).number] == [1, 2]  # page 2 comes whole
    with pytest.raises(HttpError, match="page 3 returned HTTP 503"):
        next(pages)
