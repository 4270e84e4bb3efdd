"""CKAN Action API: `/api/3/action/<name>` and `/api/action/<name>`, GET or POST (JSON or form).

`package_search` as CKAN does it (PLATFORMS.md 2.1): `rows` defaults to 10 and is silently cut
to 1000; unknown parameters are a 400 `Search Query Error`; default sort
`score desc, metadata_modified desc` (scores are equal, ties keep catalog order); `fq`/`q`
understand `field:value` on name, id, organization, groups, tags, res_format, license_id and
`metadata_modified:[<iso> TO *]` ranges (anything else in `fq` is a Search Query Error; other
`q` text matches words in title and notes). Also `package_show`, `package_list`,
`datastore_search` (generated catalogs) and `status_show`.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from wwc_pipeline.simulator import ckan_shapes as shapes
from wwc_pipeline.simulator.catalog import RecordedCatalog
from wwc_pipeline.simulator.common import Doc, DocSet, Request, Response, dumps, json_response, raw_response

ACTION_PATH = re.compile(r"/api/(?:3/)?action/([A-Za-z_]+)/?")
ROWS_MAX = 1000
DEFAULT_SORT = "score desc, metadata_modified desc"
SEARCH_PARAMETERS = {
    "q", "fq", "fq_list", "sort", "rows", "start", "facet", "facet.field", "facet.limit", "facet.mincount",
    "facet.sort", "fl", "include_private", "include_drafts", "include_deleted", "use_default_schema",
    "qf", "wt", "bf", "boost", "tie", "defType", "mm", "df", "callback", "_",
}  # fmt: skip
FIELDS = {
    "id": lambda p: [p.get("id")],
    "name": lambda p: [p.get("name")],
    "license_id": lambda p: [p.get("license_id")],
    "organization": lambda p: [(p.get("organization") or {}).get("name")],
    "groups": lambda p: [g.get("name") for g in p.get("groups") or []],
    "tags": lambda p: [t.get("name") for t in p.get("tags") or []],
    "res_format": lambda p: [r.get("format") for r in p.get("resources") or []],
}
SORT_FIELDS = {
    "score": lambda p: 0,
    "metadata_modified": lambda p: p.get("metadata_modified") or "",
    "metadata_created": lambda p: p.get("metadata_created") or "",
    "id": lambda p: p.get("id") or "",
    "name": lambda p: p.get("name") or "",
    "title_string": lambda p: (p.get("title") or "").lower(),
    "title": lambda p: (p.get("title") or "").lower(),
}
CLAUSE = re.compile(r'\s*\+?([A-Za-z_]+):("[^"]*"|\[[^\]]*\]|\S+)\s*')


class ActionError(Exception):
    def __init__(self, status: int, kind: str, message: Any) -> None:
        super().__init__(str(message))
        self.status, self.kind, self.message = status, kind, message


def _packages(catalog: RecordedCatalog) -> list:
    document = catalog.documents[0]
    if isinstance(document, dict) and isinstance(document.get("result"), dict):
        packages = catalog.items_at(("result", "results"))
    elif isinstance(document, dict) and isinstance(document.get("result"), list):
        packages = catalog.items_at(("result",))
    elif isinstance(document, list):
        packages = catalog.items()
    else:
        raise ValueError(f"{catalog!r}: not a CKAN package list or API envelope")
    if not all(isinstance(p, dict) and "id" in p and "name" in p for p in packages):
        raise ValueError(f"{catalog!r}: not CKAN packages (each needs an `id` and a `name`)")
    return packages


class CkanApp:
    def __init__(self, portal: Any) -> None:
        self.portal = portal
        catalog = portal.catalog
        site = portal.site
        if isinstance(catalog, RecordedCatalog):
            self.generated = None
            self.packages = DocSet(catalog, None, lambda p: p.get("id"), _packages(catalog))
        else:
            self.generated = catalog
            self.packages = DocSet(catalog, lambda e: shapes.package(e, site), lambda p: p["id"])

    def help_url(self, action: str) -> str:
        return f"{self.portal.site.base_url}/api/3/action/help_show?name={action}"

    def handle(self, request: Request) -> Response | None:
        match = ACTION_PATH.fullmatch(request.path)
        if request.path in ("/api/3", "/api/3/"):
            return json_response({"version": 3})
        if not match:
            return None
        action = match[1]
        try:
            params = self._params(request)
            method = getattr(self, f"action_{action}", None)
            if method is None:
                raise ActionError(400, "Bad Request", f"Bad request - Action name not known: {action}")
            result = method(params)
        except ActionError as error:
            body = {"__type": error.kind}
            body.update(error.message if isinstance(error.message, dict) else {"message": error.message})
            return json_response(
                {"help": self.help_url(action), "success": False, "error": body}, error.status
            )
        prefix = b'{"help":' + dumps(self.help_url(action)) + b',"success":true,"result":'
        return raw_response(prefix + (result if isinstance(result, bytes) else dumps(result)) + b"}")

    def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = {key: values[-1] for key, values in request.query.items()}
        if request.method == "POST" and request.body.strip():
            content_type = request.headers.get("Content-Type", "")
            if "form" in content_type:
                form = parse_qs(request.body.decode(), keep_blank_values=True)
                params.update({key: values[-1] for key, values in form.items()})
            else:
                try:
                    body = json.loads(request.body)
                except ValueError:
                    raise ActionError(
                        400, "Bad Request", "Bad request - JSON Error: invalid JSON body"
                    ) from None
                if not isinstance(body, dict):
                    raise ActionError(400, "Bad Request", "Bad request - JSON Error: not a JSON object")
                params.update(body)
        return params

    # --- actions -----------------------------------------------------------------------------------
    def action_status_show(self, params: dict) -> dict:
        return {
            "site_title": f"{self.portal.site.city} Open Data",
            "site_description": "",
            "site_url": self.portal.site.base_url,
            "ckan_version": "2.10.4",
            "error_emails_to": None,
            "locale_default": "en",
            "extensions": ["datastore", "dcat", "scheming_datasets"],
        }

    def action_package_show(self, params: dict) -> bytes:
        wanted = str(params.get("id") or params.get("name_or_id") or "")
        for doc in self.packages.current():
            if wanted in (doc.id, doc.obj.get("name")):
                return doc.raw
        raise ActionError(404, "Not Found Error", "Not found")

    def action_package_list(self, params: dict) -> list[str]:
        names = sorted(str(doc.obj.get("name")) for doc in self.packages.current())
        offset = _natural(params, "offset", 0)
        limit = _natural(params, "limit", len(names))
        return names[offset : offset + limit]

    def action_package_search(self, params: dict) -> bytes:
        unknown = sorted(k for k in params if k not in SEARCH_PARAMETERS and not k.startswith("ext_"))
        if unknown:
            raise ActionError(
                400, "Search Query Error", f'Search Query is invalid: "Invalid search parameters: {unknown}"'
            )
        rows = min(_natural(params, "rows", 10), ROWS_MAX)
        start = _natural(params, "start", 0)
        docs = self.packages.current()
        tests = _clauses(str(params.get("q") or ""), free_text=True)
        fq = params.get("fq_list") or []
        for clause in [params.get("fq") or ""] + (fq if isinstance(fq, list) else [fq]):
            tests += _clauses(str(clause), free_text=False)
        if tests:
            docs = [doc for doc in docs if all(test(doc.obj) for test in tests)]
        sort = str(params.get("sort") or DEFAULT_SORT)
        if sort.strip() in ("", "rank", "None"):
            sort = DEFAULT_SORT
        docs = _sorted(docs, sort)
        page = docs[start : start + rows]
        fields = [f for f in re.split(r"[\s,]+", str(params.get("fl") or "")) if f and f != "*"]
        items = b",".join(dumps({f: d.obj.get(f) for f in fields}) if fields else d.raw for d in page)
        return (
            b'{"count":%d,"facets":{},"results":[' % len(docs)
            + items
            + b'],"sort":'
            + dumps(sort)
            + b',"search_facets":{}}'
        )

    def action_datastore_search(self, params: dict) -> dict:
        resource = str(params.get("resource_id") or params.get("id") or "")
        if not resource:
            raise ActionError(409, "Validation Error", {"resource_id": ["Missing value"]})
        unsupported = sorted(k for k in ("filters", "q", "sort", "distinct", "plain") if params.get(k))
        if unsupported:
            raise ActionError(
                409, "Validation Error", {k: ["not supported by the simulator"] for k in unsupported}
            )
        entry = self._datastore().get(resource)
        if entry is None:
            raise ActionError(404, "Not Found Error", f'Resource "{resource}" was not found.')
        limit = min(_natural(params, "limit", 100), 32000)
        offset = _natural(params, "offset", 0)
        rows = self.generated.rows(entry, offset, offset + limit)
        records = [
            {"_id": offset + n + 1, **{k: shapes.datastore_value(v) for k, v in row.items()}}
            for n, row in enumerate(rows)
        ]
        link = f"/api/3/action/datastore_search?resource_id={resource}"
        return {
            "include_total": True,
            "limit": limit,
            "records_format": "objects",
            "resource_id": resource,
            "total_estimation_threshold": None,
            "records": records,
            "fields": [{"id": "_id", "type": "int"}]
            + [{"id": c.field_name, "type": shapes.DATASTORE_TYPE[c.datatype]} for c in entry.columns],
            "_links": {"start": link, "next": f"{link}&offset={offset + limit}"},
            "total": entry.row_count,
            "total_was_estimated": False,
        }

    def _datastore(self) -> dict:
        def build(docs: list[Doc]) -> dict:
            index = {}
            for doc in docs:
                for resource in doc.obj.get("resources") or []:
                    if resource.get("datastore_active") and doc.entry is not None:
                        index[resource["id"]] = doc.entry
            return index

        return self.packages.derived("datastore", build) if self.generated is not None else {}


def _natural(params: dict, name: str, default: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ActionError(409, "Validation Error", {name: ["Invalid integer"]}) from None
    if number < 0:
        raise ActionError(409, "Validation Error", {name: ["Must be a natural number"]})
    return number


def _clauses(text: str, free_text: bool) -> list:
    """Tests for `field:value` clauses; in `q`, other text matches words in title and notes."""
    text = text.strip()
    if text in ("", "*:*"):
        return []
    tests, position = [], 0
    while position < len(text):
        match = CLAUSE.match(text, position)
        if not match:
            break
        field, value = match[1], match[2].strip('"')
        wanted = value.lower()
        if field in ("site_id", "capacity"):
            pass
        elif field in ("metadata_modified", "metadata_created") and value.startswith("["):
            tests.append(_range_test(field, value))
        elif field in FIELDS:
            tests.append(lambda p, f=field, v=wanted: v in {str(x).lower() for x in FIELDS[f](p)})
        elif not free_text:
            raise ActionError(
                400, "Search Query Error", f"Search Query is invalid: field {field!r} not supported"
            )
        else:
            break
        position = match.end()
    rest = text[position:].strip()
    if rest and not free_text:
        raise ActionError(400, "Search Query Error", f"Search Query is invalid: cannot parse {rest!r}")
    if rest:
        words = rest.lower().split()
        tests.append(lambda p, w=words: all(x in f"{p.get('title')} {p.get('notes')}".lower() for x in w))
    return tests


def _range_test(field: str, value: str):
    parts = value.strip("[]").split(" TO ")
    if len(parts) != 2:
        raise ActionError(400, "Search Query Error", f"Search Query is invalid: bad range {value!r}")
    bounds = [None if part.strip() == "*" else _moment(part.strip()) for part in parts]

    def test(package: dict) -> bool:
        stamp = _moment(str(package.get(field) or "")) if package.get(field) else None
        if stamp is None:
            return False
        return (bounds[0] is None or stamp >= bounds[0]) and (bounds[1] is None or stamp <= bounds[1])

    return test


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ActionError(400, "Search Query Error", f"Search Query is invalid: bad date {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _sorted(docs: list[Doc], sort: str) -> list[Doc]:
    keys = []
    for part in sort.split(","):
        words = part.split()
        if not words:
            continue
        if words[0] not in SORT_FIELDS or (len(words) > 1 and words[1].lower() not in ("asc", "desc")):
            raise ActionError(409, "Search Error", f"Search error: can not sort on {part.strip()!r}")
        keys.append((SORT_FIELDS[words[0]], len(words) > 1 and words[1].lower() == "desc"))
    ordered = list(docs)
    for key, descending in reversed(keys):
        ordered.sort(key=lambda doc, k=key: k(doc.obj), reverse=descending)
    return ordered
