"""OpenDataSoft Explore API v2.1: catalog, catalog export, one dataset, its records and exports.

Limits as documented (PLATFORMS.md 4.1): `/catalog/datasets` and `/records` take `limit` up to
100 (default 10) and refuse `offset + limit > 10000`, both as 400
`{"error_code": "InvalidRESTParameterError", "message": ...}`; `/catalog/exports/json` is the
whole catalog, unpaged. `order_by` takes fields of `metas.default` (and `dataset_id`);
`refine`/`exclude` take theme, keyword, publisher, license facets; `where` is not simulated
(400 ODSQLError, so a connector that relies on it finds out).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

from wwc_pipeline.simulator import vocabulary as vocab
from wwc_pipeline.simulator.catalog import RecordedCatalog
from wwc_pipeline.simulator.common import (
    DocSet,
    Request,
    Response,
    Site,
    iso_offset,
    join_docs,
    json_response,
    parse_int,
    raw_response,
)
from wwc_pipeline.simulator.generator import Entry

BASE = "/api/explore/v2.1"
MAX_LIMIT = 100
MAX_WINDOW = 10_000
DATASET_PATH = re.compile(BASE + r"/catalog/datasets/([^/]+)/?")
RECORDS_PATH = re.compile(BASE + r"/catalog/datasets/([^/]+)/records/?")
EXPORT_PATH = re.compile(BASE + r"/catalog/datasets/([^/]+)/exports/(json|csv)/?")
FACETS = ("theme", "keyword", "publisher", "license")
FIELD_TYPE = {"text": "text", "number": "double", "calendar_date": "date", "checkbox": "text"}


def dataset(entry: Entry, site: Site) -> dict | None:
    """One `results[]` item; ODS has no charts, maps or stories (the policy is a dataset without records)."""
    if not entry.is_dataset and entry.kind != "policy":
        return None
    licence = vocab.LICENCES[entry.licence]["opendatasoft"] if entry.licence else None
    attachments = []
    if entry.kind == "policy":
        attachments.append(
            {
                "href": site.file_url(entry, "pdf"),
                "id": "open_data_policy_pdf",
                "mimetype": "application/pdf",
                "title": entry.title,
            }
        )
    return {
        "dataset_id": entry.slug,
        "dataset_uid": "da_" + entry.uid.replace("-", ""),
        "attachments": attachments,
        "has_records": entry.is_dataset,
        "data_visible": True,
        "features": ["analyze"] if entry.is_dataset else [],
        "metas": {
            "default": {
                "title": entry.title,
                "description": f"<p>{entry.description}</p>" if entry.description else None,
                "theme": [entry.category],
                "keyword": list(entry.tags) or None,
                "license": licence.format(city=site.city) if isinstance(licence, str) else None,
                "license_url": None,
                "language": "en",
                "timezone": None,
                "modified": iso_offset(entry.data_modified),
                "modified_updates_on_metadata_change": False,
                "modified_updates_on_data_change": True,
                "data_processed": iso_offset(entry.data_modified) if entry.is_dataset else None,
                "metadata_processed": iso_offset(entry.metadata_modified),
                "geographic_reference": ["us"],
                "geographic_reference_auto": True,
                "territory": None,
                "publisher": entry.department,
                "references": site.page_url(entry),
                "records_count": entry.row_count,
                "attributions": None,
                "source_domain": None,
                "source_domain_title": None,
                "source_domain_address": None,
                "source_dataset": None,
                "shared_catalog": None,
            },
            "dcat": {
                "created": iso_offset(entry.created),
                "issued": iso_offset(entry.created),
                "creator": None,
                "contributor": None,
                "contact_name": entry.contact_name,
                "contact_email": entry.contact_email,
                "accrualperiodicity": vocab.CADENCE_TEXT["opendatasoft"][entry.cadence]
                if entry.cadence
                else None,
                "spatial": None,
                "temporal": None,
                "granularity": None,
                "dataquality": None,
            },
        },
        "fields": [
            {
                "name": column.field_name,
                "label": column.name,
                "type": "int" if column.kind in ("row_id", "count") else FIELD_TYPE[column.datatype],
                "annotations": {},
                "description": column.description,
            }
            for column in entry.columns
        ],
    }


def ods_error(message: str, code: str = "InvalidRESTParameterError", status: int = 400) -> Response:
    return json_response({"error_code": code, "message": message}, status)


def _recorded_items(catalog: RecordedCatalog) -> list:
    document = catalog.documents[0]
    if isinstance(document, list):
        return catalog.items()
    if isinstance(document, dict) and isinstance(document.get("results"), list):
        return catalog.items("results")
    if isinstance(document, dict) and isinstance(document.get("datasets"), list):  # v2.0 or v1
        return [item.get("dataset", item) for item in catalog.items("datasets")]
    raise ValueError(f"{catalog!r}: not an OpenDataSoft catalog (results, datasets or an export list)")


def _ident(item: Any) -> str:
    return str(item.get("dataset_id") or item.get("datasetid") or "") if isinstance(item, dict) else ""


def _default(doc: dict, name: str) -> Any:
    return ((doc.get("metas") or {}).get("default") or {}).get(name)


def _window(request: Request) -> tuple[int, int] | Response:
    try:
        limit = parse_int(request.arg("limit"), 10)
        offset = parse_int(request.arg("offset"), 0)
    except ValueError:
        return ods_error("Invalid value for limit or offset API parameter: an integer is expected.")
    if limit == -1:
        limit = MAX_LIMIT
    if not 0 <= limit <= MAX_LIMIT:
        return ods_error(
            f"Invalid value for limit API parameter: {limit} was found but -1 <= limit <= 100 is expected."
        )
    if offset < 0:
        return ods_error(f"Invalid value for offset API parameter: {offset} was found but >= 0 is expected.")
    if offset + limit > MAX_WINDOW:
        return ods_error(
            f"Invalid value for sum of offset + limit API parameter: {offset + limit} was found"
            f" but <= {MAX_WINDOW} is expected."
        )
    return limit, offset


class OpenDataSoftApp:
    def __init__(self, portal: Any) -> None:
        self.portal = portal
        catalog = portal.catalog
        site = portal.site
        if isinstance(catalog, RecordedCatalog):
            self.generated = None
            self.datasets = DocSet(catalog, None, _ident, _recorded_items(catalog))
        else:
            self.generated = catalog
            self.datasets = DocSet(catalog, lambda e: dataset(e, site), lambda d: d["dataset_id"])

    def handle(self, request: Request) -> Response | None:
        path = request.path.rstrip("/")
        if path == BASE + "/catalog/datasets":
            return self.catalog(request)
        if path == BASE + "/catalog/exports/json":
            return raw_response(join_docs(self.datasets.current()))
        if match := RECORDS_PATH.fullmatch(path):
            return self.records(match[1], request)
        if match := EXPORT_PATH.fullmatch(path):
            return self.export(match[1], match[2])
        if match := DATASET_PATH.fullmatch(path):
            doc = self.datasets.by_id().get(match[1])
            return (
                raw_response(doc.raw) if doc else ods_error(f"Unknown dataset: {match[1]}", "NotFound", 404)
            )
        return None

    def catalog(self, request: Request) -> Response:
        window = _window(request)
        if isinstance(window, Response):
            return window
        limit, offset = window
        if request.arg("where") or request.arg("group_by"):
            return ods_error("the simulator does not evaluate `where` or `group_by`", "ODSQLError")
        docs = self.datasets.current()
        for name, keep in (("refine", True), ("exclude", False)):
            for value in request.query.get(name, []):
                facet, _, wanted = value.partition(":")
                if facet not in FACETS:
                    return ods_error(f"Unknown facet {facet!r}: use one of {', '.join(FACETS)}")
                docs = [d for d in docs if _has_facet(d.obj, facet, wanted) == keep]
        if order := request.arg("order_by"):
            sorted_docs = _order(docs, order)
            if isinstance(sorted_docs, Response):
                return sorted_docs
            docs = sorted_docs
        page = docs[offset : offset + limit]
        body = b'{"total_count":%d,"results":' % len(docs) + join_docs(page) + b"}"
        return raw_response(body)

    def _entry(self, dataset_id: str) -> Entry | None:
        doc = self.datasets.by_id().get(dataset_id)
        return doc.entry if doc is not None and doc.entry is not None and doc.entry.is_dataset else None

    def records(self, dataset_id: str, request: Request) -> Response:
        entry = self._entry(dataset_id)
        if entry is None:
            return ods_error(f"Unknown dataset: {dataset_id} (or it holds no records)", "NotFound", 404)
        window = _window(request)
        if isinstance(window, Response):
            return window
        limit, offset = window
        rows = [_record(entry, row) for row in self.generated.rows(entry, offset, offset + limit)]
        return json_response({"total_count": entry.row_count, "results": rows})

    def export(self, dataset_id: str, fmt: str) -> Response:
        entry = self._entry(dataset_id)
        if entry is None:
            return ods_error(f"Unknown dataset: {dataset_id} (or it holds no records)", "NotFound", 404)
        rows = [_record(entry, row) for row in self.generated.rows(entry, 0, entry.row_count)]
        if fmt == "json":
            return json_response(rows)
        out = io.StringIO()
        writer = csv.DictWriter(out, [c.field_name for c in entry.columns], delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
        return raw_response(out.getvalue().encode(), 200, "text/csv; charset=utf-8")


def _record(entry: Entry, row: dict) -> dict:
    def value(item: Any) -> Any:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, date):
            return item.isoformat()
        return item

    return {key: value(item) for key, item in row.items()}


def _has_facet(doc: dict, facet: str, wanted: str) -> bool:
    value = _default(doc, facet)
    values = value if isinstance(value, list) else [value]
    return wanted.lower() in {str(v).lower() for v in values if v is not None}


def _order(docs: list, order: str) -> list | Response:
    ordered = list(docs)
    for part in reversed([p.strip() for p in order.split(",") if p.strip()]):
        words = part.split()
        field = words[0]
        descending = len(words) > 1 and words[1].lower() == "desc"
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            return ods_error(f"Invalid order_by clause {part!r}", "ODSQLError")

        def key(doc: Any, name: str = field) -> Any:
            value = doc.id if name == "dataset_id" else _default(doc.obj, name)
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            return (0, value, "") if number else (1, 0, str(value))

        def present(doc: Any, name: str = field) -> bool:
            return name == "dataset_id" or _default(doc.obj, name) is not None

        known = field == "dataset_id" or any(
            field in ((d.obj.get("metas") or {}).get("default") or {}) for d in docs
        )
        if docs and not known:
            return ods_error(f"Unknown field in order_by: {field!r}", "ODSQLError")
        missing = [doc for doc in ordered if not present(doc)]
        ordered = sorted((doc for doc in ordered if present(doc)), key=key, reverse=descending) + missing
    return ordered
