"""Socrata endpoints: Discovery API `/api/catalog/v1`, `/api/views.json`, SODA `/resource/<id>.json`.

Limits enforced as documented (PLATFORMS.md 1.1-1.4): Discovery `limit` defaults to 100, and
`offset + limit > 10000` is a 400 `{"error": ...}`, as is `order` together with `scroll_id`;
`scroll_id` pages in id order (results with an id after it); unknown parameters are custom
metadata filters, so a misspelt one silently gives no results. `domains` naming the simulator's
own host (sodapy sends `127.0.0.1:<port>`) selects every asset. `resultSetSize` is the count of
matching assets, cursor or not.
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Any

from wwc_pipeline.simulator import socrata_shapes as shapes
from wwc_pipeline.simulator.catalog import RecordedCatalog
from wwc_pipeline.simulator.common import (
    Doc,
    DocSet,
    Request,
    Response,
    http_date,
    join_docs,
    json_response,
    parse_int,
    raw_response,
)

MAX_WINDOW = 10_000
ASSET_TYPES = {
    "api", "calendar", "chart", "datalens", "dataset", "federated_href", "file", "filter", "form",
    "href", "link", "map", "measure", "story", "visualization",
}  # fmt: skip
NO_EFFECT = {
    "limit", "offset", "scroll_id", "order", "min_should_match", "for_user", "shared_to", "public",
    "visibility", "audience", "published", "approval_status", "explicitly_hidden", "data_json_hidden",
    "derived", "boostOfficial", "show_visibility", "app_token", "$$app_token",
}  # fmt: skip
ORDERS: dict[str, tuple[Any, bool]] = {  # name -> (value of a result, descending by default)
    "relevance": (None, True),
    "name": (lambda o: (o["resource"].get("name") or "").lower() or None, False),
    "dataset_id": (lambda o: o["resource"].get("id"), False),
    "owner": (lambda o: (o.get("owner") or {}).get("display_name"), False),
    "datatype": (lambda o: o["resource"].get("type"), False),
    "domain_category": (lambda o: (o.get("classification") or {}).get("domain_category"), False),
    "createdAt": (lambda o: o["resource"].get("createdAt"), True),
    "updatedAt": (lambda o: o["resource"].get("updatedAt"), True),
    "page_views_total": (lambda o: (o["resource"].get("page_views") or {}).get("page_views_total"), True),
    "page_views_last_month": (
        lambda o: (o["resource"].get("page_views") or {}).get("page_views_last_month"),
        True,
    ),
    "page_views_last_week": (
        lambda o: (o["resource"].get("page_views") or {}).get("page_views_last_week"),
        True,
    ),
}
VIEW_PATH = re.compile(r"/api/views/([a-z0-9]{4}-[a-z0-9]{4})(?:\.json)?")
RESOURCE_PATH = re.compile(r"/resource/([a-z0-9]{4}-[a-z0-9]{4})(?:\.json)?")
ASSET_PAGE = re.compile(r"/(?:[^/]+/)*([a-z0-9]{4}-[a-z0-9]{4})/?")


def discovery_error(message: str, status: int = 400) -> Response:
    return json_response({"error": message}, status)


def soda_error(status: int, code: str, message: str) -> Response:
    return json_response({"code": code, "error": True, "message": message}, status)


def _result_id(result: Any) -> str:
    if not isinstance(result, dict) or not isinstance(result.get("resource"), dict):
        raise ValueError("recorded Socrata Discovery results must be objects with a `resource`")
    return str(result["resource"].get("id"))


def _view_id(view: Any) -> str:
    if not isinstance(view, dict) or "id" not in view:
        raise ValueError("recorded Socrata views must be objects with an `id`")
    return str(view["id"])


class SocrataApp:
    def __init__(self, portal: Any) -> None:
        self.portal = portal
        catalog = portal.catalog
        site = portal.site
        self.generated = None
        self.discovery: DocSet | None = None
        self.views: DocSet | None = None
        self._uids: tuple[int, dict[str, Any]] | None = None  # catalog version, uid -> entry
        if isinstance(catalog, RecordedCatalog):
            first = catalog.documents[0]
            if isinstance(first, dict) and "results" in first:
                self.discovery = DocSet(catalog, None, _result_id, catalog.items("results"))
            elif isinstance(first, list):
                self.views = DocSet(catalog, None, _view_id, catalog.items())
            else:
                raise ValueError(f"{catalog!r}: not a Socrata Discovery response or views list")
        else:
            self.generated = catalog
            self.discovery = DocSet(
                catalog, lambda e: shapes.discovery(e, site), lambda o: o["resource"]["id"]
            )
            self.views = DocSet(catalog, lambda e: shapes.view(e, site), lambda o: o["id"])

    def handle(self, request: Request) -> Response | None:
        path = request.path
        if path in ("/api/catalog/v1", "/api/catalog/v1/"):
            return self.search(request)
        if path in ("/api/views.json", "/api/views"):
            return self.views_list(request)
        if match := VIEW_PATH.fullmatch(path):
            return self.view_one(match[1])
        if match := RESOURCE_PATH.fullmatch(path):
            return self.rows(match[1], request)
        if (match := ASSET_PAGE.fullmatch(path)) and self._doc(match[1]) is not None:
            title = self._doc(match[1]).obj.get("name") or match[1]
            return raw_response(f"<html><title>{title}</title></html>".encode(), 200, "text/html")
        return None

    def _doc(self, uid: str) -> Doc | None:
        for docs in (self.views, self.discovery):
            if docs is not None and uid in docs.by_id():
                return docs.by_id()[uid]
        return None

    # --- Discovery API -------------------------------------------------------------------------
    def search(self, request: Request) -> Response:
        query: dict[str, list[str]] = {}
        for name, values in request.query.items():  # `tags[]=a` is `tags=a`
            query.setdefault(name.removesuffix("[]"), []).extend(values)
        request = Request(request.method, request.path, query, request.body, request.headers)
        if self.discovery is None:
            return soda_error(404, "not_found", "this recorded catalog holds views only: ask /api/views.json")
        try:
            limit = parse_int(request.arg("limit"), 100)
            offset = parse_int(request.arg("offset"), 0)
        except ValueError:
            return discovery_error("limit and offset must be integers")
        if limit < 0 or offset < 0:
            return discovery_error("limit and offset must not be negative")
        if "scroll_id" in request.query and "order" in request.query:
            return discovery_error("order is not supported with scroll_id: results are in id order")
        if offset + limit > MAX_WINDOW:
            return discovery_error(
                f"offset + limit must be at most {MAX_WINDOW} (got offset={offset}, limit={limit});"
                " use scroll_id to page further"
            )
        docs = self.discovery.current()
        selected = self._filter(docs, request)
        if isinstance(selected, Response):
            return selected
        total = len(selected)
        scroll = request.arg("scroll_id")
        if scroll is not None:
            if selected is docs:
                ordered = self.discovery.derived("by_id_sorted", lambda d: sorted(d, key=lambda doc: doc.id))
                ids = self.discovery.derived("sorted_ids", lambda d: sorted(doc.id for doc in d))
                selected = ordered[bisect.bisect_right(ids, scroll) :]
            else:
                selected = sorted((d for d in selected if d.id > scroll), key=lambda doc: doc.id)
        elif request.arg("order"):
            selected = self._order(selected, request.arg("order") or "")
            if isinstance(selected, Response):
                return selected
        page = selected[offset : offset + limit]
        body = (
            b'{"results":['
            + b",".join(doc.raw for doc in page)
            + b'],"resultSetSize":%d,"timings":{"serviceMillis":0,"searchMillis":[0,0]},"warnings":[]}'
            % total
        )
        return raw_response(body)

    def _own_hosts(self) -> set[str]:
        port = self.portal.url.rsplit(":", 1)[-1]
        return {self.portal.domain.lower(), self.portal.site.domain.lower(), f"localhost:{port}"}

    def _filter(self, docs: list[Doc], request: Request) -> list[Doc] | Response:
        tests = []
        for name, values in request.query.items():
            lowered = {value.lower() for value in values}
            listed = set(request.args(name))
            if name in NO_EFFECT:
                continue
            if name in ("domains", "search_context"):
                wanted = {value.lower() for value in request.args(name)}
                if wanted and not wanted & self._own_hosts():
                    tests.append(
                        lambda o, w=wanted: str((o.get("metadata") or {}).get("domain")).lower() in w
                    )
            elif name == "only":
                types = {_singular(value) for value in request.args(name)}
                if unknown := types - ASSET_TYPES:
                    return discovery_error(f"unknown asset type in only: {', '.join(sorted(unknown))}")
                tests.append(lambda o, t=types: o["resource"].get("type") in t)
            elif name == "ids":
                tests.append(lambda o, w=listed: o["resource"].get("id") in w)
            elif name == "names":
                tests.append(lambda o, w=lowered: str(o["resource"].get("name")).lower() in w)
            elif name in ("categories", "tags"):
                tests.append(lambda o, w=lowered, n=name: bool(w & _labels(o, n)))
            elif name in ("attribution", "provenance"):
                tests.append(lambda o, w=lowered, n=name: str(o["resource"].get(n)).lower() in w)
            elif name == "license":
                tests.append(lambda o, w=lowered: str((o.get("metadata") or {}).get("license")).lower() in w)
            elif name == "q":
                words = " ".join(values).lower().split()
                tests.append(lambda o, w=words: _matches_words(o, w))
            elif name == "column_names":
                tests.append(
                    lambda o, w=lowered: w <= {c.lower() for c in o["resource"].get("columns_name") or []}
                )
            elif name in ("parent_ids", "derived_from"):
                tests.append(lambda o, w=listed: bool(w & set(o["resource"].get("parent_fxf") or [])))
            else:  # custom metadata filter: `<Set>_<Key>=<value>`
                tests.append(lambda o, k=name, w=lowered: _has_metadata(o, k, w))
        if not tests:
            return docs
        return [doc for doc in docs if all(test(doc.obj) for test in tests)]

    def _order(self, docs: list[Doc], order: str) -> list[Doc] | Response:
        parts = order.replace("+", " ").split()
        field = {name.lower(): name for name in ORDERS}.get(parts[0].lower() if parts else "")
        direction = parts[1].upper() if len(parts) > 1 else None
        if field is None or direction not in (None, "ASC", "DESC") or len(parts) > 2:
            return discovery_error(
                f"invalid order {order!r}; use one of {', '.join(ORDERS)} with ASC or DESC"
            )
        value, descending = ORDERS[field]
        descending = descending if direction is None else direction == "DESC"
        if value is None:
            return list(docs) if descending else list(reversed(docs))
        present = [doc for doc in docs if value(doc.obj) is not None]
        missing = [doc for doc in docs if value(doc.obj) is None]
        return sorted(present, key=lambda doc: value(doc.obj), reverse=descending) + missing

    # --- views -----------------------------------------------------------------------------------
    def views_list(self, request: Request) -> Response:
        if self.views is None:
            return soda_error(404, "not_found", "this recorded catalog holds Discovery results only")
        try:
            limit = parse_int(request.arg("limit"), 0)
            page = parse_int(request.arg("page"), 1)
        except ValueError:
            return soda_error(400, "invalid_request", "limit and page must be integers")
        if limit < 0 or page < 1:
            return soda_error(400, "invalid_request", "limit must be 0 or more and page 1 or more")
        docs = self.views.current()
        if limit:
            docs = docs[(page - 1) * limit : page * limit]
        elif page > 1:
            docs = []
        return raw_response(join_docs(docs))

    def view_one(self, uid: str) -> Response:
        doc = self.views.by_id().get(uid) if self.views is not None else None
        if doc is None:
            return soda_error(404, "not_found", f"Cannot find view with id {uid}")
        return raw_response(doc.raw)

    # --- SODA 2.1 rows -----------------------------------------------------------------------------
    def _generated_entry(self, uid: str) -> Any:
        """The generated catalog's entry with this four-by-four (the last one, as the views'
        index has it), from an index kept per catalog version: finding it by the rendered views
        rendered every view of the portal for its first sampled rows."""
        if self.generated is None:
            return None
        version, entries = self.generated.snapshot()
        index = self._uids
        if index is None or index[0] != version:
            index = self._uids = (version, {entry.uid: entry for entry in entries})
        return index[1].get(uid)

    def rows(self, uid: str, request: Request) -> Response:
        entry = self._generated_entry(uid)
        if entry is None or not entry.is_dataset:
            return soda_error(404, "not_found", f"Dataset {uid} not found (or it holds no rows)")
        fields = [column.field_name for column in entry.columns]
        unsupported = [
            k for k in request.query if k.startswith("$") and k not in ("$limit", "$offset", "$order")
        ]
        unsupported = [k for k in unsupported if k != "$$app_token"]
        if unsupported:
            message = f"the simulator supports $limit, $offset and $order only (got {', '.join(unsupported)})"
            return soda_error(400, "query.soql.unsupported", message)
        try:
            limit = parse_int(request.arg("$limit"), 1000)
            offset = parse_int(request.arg("$offset"), 0)
        except ValueError:
            return soda_error(400, "query.soql.type-mismatch", "$limit and $offset must be integers")
        if limit < 0 or offset < 0:
            return soda_error(400, "query.soql.type-mismatch", "$limit and $offset must not be negative")
        filters = {k: v[-1] for k, v in request.query.items() if not k.startswith("$")}
        order = (request.arg("$order") or ":id").split()
        for name in list(filters) + [order[0]]:
            if name != ":id" and name not in fields:
                return soda_error(400, "query.soql.no-such-column", f"No such column: {name}")
        if filters or order[0] != ":id" or (len(order) > 1 and order[1].upper() == "DESC"):
            rows = [shapes.soda_row(r) for r in self.generated.rows(entry, 0, entry.row_count)]
            rows = [r for r in rows if all(str(r.get(k)) == v for k, v in filters.items())]
            key = order[0] if order[0] != ":id" else fields[0]
            descending = len(order) > 1 and order[1].upper() == "DESC"
            rows = sorted(
                [r for r in rows if key in r], key=lambda r: _sortable(r[key]), reverse=descending
            ) + [r for r in rows if key not in r]
            rows = rows[offset : offset + limit]
        else:
            rows = [shapes.soda_row(r) for r in self.generated.rows(entry, offset, offset + limit)]
        types = [shapes.SODA_TYPE[c.datatype] for c in entry.columns]
        headers = {
            "X-SODA2-Fields": json.dumps(fields),
            "X-SODA2-Types": json.dumps(types),
            "Last-Modified": http_date(entry.data_modified),
            "ETag": f'"{entry.uid}-{entry.revision}"',
        }
        return json_response(rows, headers=headers)


def _singular(value: str) -> str:
    value = value.lower()
    if value == "stories":
        return "story"
    return value[:-1] if value.endswith("s") and value[:-1] in ASSET_TYPES else value


def _labels(result: dict, name: str) -> set[str]:
    classification = result.get("classification") or {}
    if name == "categories":
        labels = [classification.get("domain_category")] + list(classification.get("categories") or [])
    else:
        labels = list(classification.get("domain_tags") or []) + list(classification.get("tags") or [])
    return {str(label).lower() for label in labels if label}


def _matches_words(result: dict, words: list[str]) -> bool:
    resource = result["resource"]
    text = f"{resource.get('name') or ''} {resource.get('description') or ''}".lower()
    return all(word in text for word in words)


def _has_metadata(result: dict, key: str, wanted: set[str]) -> bool:
    items = (result.get("classification") or {}).get("domain_metadata") or []
    return any(item.get("key") == key and str(item.get("value")).lower() in wanted for item in items)


def _sortable(value: Any) -> Any:
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value))
