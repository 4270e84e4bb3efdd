"""OpenDataSoft (Huwise) connector: Explore API v2.1 catalog, with v2.0 and v1 shapes read too.

The catalog endpoint returns at most 100 datasets a call and refuses `offset + limit` beyond
10,000; past that the harvest switches to the unpaged `catalog/exports/json`, which is also
one quota hit instead of a hundred.

Every ODS dataset has the exports (CSV, JSON) and the records API, so each gets those three
distributions. String fields follow METRICS.md as in the other connectors: `title`, keywords,
categories, publisher, contact and frequency hold their text; `description` and the licence the
raw string.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from wwc_pipeline.connector import HarvestPage, flag_undecodable
from wwc_pipeline.http import HttpError
from wwc_pipeline.model import UNDECODABLE, Column, DatasetRecord, Distribution
from wwc_pipeline.paging import OffsetPaginator, dedupe_by, paginate
from wwc_pipeline.registry import register_connector
from wwc_pipeline.text import first_present, first_time, raw_string, text, text_or_none

platform = "opendatasoft"

API_BASE = "/api/explore/v2.1"
CATALOG_PATH = API_BASE + "/catalog/datasets"
EXPORT_PATH = API_BASE + "/catalog/exports/json"
MAX_LIMIT = 100
MAX_WINDOW = 10_000  # offset + limit ceiling of the paginated endpoints
INVALID_PARAMETER = "InvalidRESTParameterError"  # ODS's error_code for the offset ceiling (and others)


# ---------------------------------------------------------------- recognising and reading


def _is_v21_dataset(item: Any) -> bool:
    return isinstance(item, dict) and "dataset_id" in item and "metas" in item


def _is_v1_dataset(item: Any) -> bool:
    return isinstance(item, dict) and "datasetid" in item


def _datasets(document: Any) -> list[Any] | None:
    """v2.1 `results[]`, v2.0 `datasets[].dataset`, v1 `datasets[]`, or an exports/json list."""
    if isinstance(document, list):
        return document
    if not isinstance(document, dict):
        return None
    if isinstance(document.get("results"), list):
        return document["results"]
    if isinstance(document.get("datasets"), list):
        return [
            item["dataset"] if isinstance(item, dict) and isinstance(item.get("dataset"), dict) else item
            for item in document["datasets"]
        ]
    return None


def looks_like(document: Any) -> bool:
    """v2.1 results (`dataset_id` + `metas`), v2.0 `datasets[].dataset`, v1 `datasets[].datasetid`."""
    if isinstance(document, dict) and "resultSetSize" not in document:
        items = document.get("results", document.get("datasets"))
        if isinstance(items, list) and not items:
            return "total_count" in document or "nhits" in document
    datasets = _datasets(document)
    if not datasets:
        return False
    items = [item for item in datasets[:20] if isinstance(item, dict)]
    return bool(items) and all(_is_v21_dataset(item) or _is_v1_dataset(item) for item in items)


def _metas(dataset: dict) -> tuple[dict, dict]:
    """(`metas.default`, `metas.dcat`); v1 keeps the default metas flat, DCAT in `interop_metas`."""
    metas = dataset.get("metas") if isinstance(dataset.get("metas"), dict) else {}
    default = metas.get("default") if isinstance(metas.get("default"), dict) else metas
    dcat = metas.get("dcat")
    if not isinstance(dcat, dict):
        interop = dataset.get("interop_metas")
        dcat = interop.get("dcat") if isinstance(interop, dict) else None
    return default, dcat if isinstance(dcat, dict) else {}


def _texts(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [cleaned for cleaned in (text(item) for item in items) if cleaned]


def _columns(dataset: dict) -> list[Column] | None:
    fields = dataset.get("fields")
    if not isinstance(fields, list):
        return None
    return [
        Column(
            name=text(field.get("name")),
            description=text_or_none(field.get("description")),
            datatype=text_or_none(field.get("type")),
        )
        for field in fields
        if isinstance(field, dict)
    ]


def _distributions(dataset_id: str, base_url: str | None) -> list[Distribution]:
    """CSV and JSON exports and the records API: every ODS dataset has all three."""
    root = f"{base_url}{CATALOG_PATH}/{quote(dataset_id, safe='')}" if base_url and dataset_id else None
    return [
        Distribution(format="csv", title="CSV export", url=root and f"{root}/exports/csv"),
        Distribution(format="json", title="JSON export", url=root and f"{root}/exports/json"),
        Distribution(format="api", title="Explore API records", url=root and f"{root}/records"),
    ]


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def record_from_dataset(dataset: dict, portal: str | None, base_url: str | None = None) -> DatasetRecord:
    """One ODS dataset as a DatasetRecord (METRICS.md, OpenDataSoft column)."""
    default, dcat = _metas(dataset)
    dataset_id = raw_string(dataset.get("dataset_id", dataset.get("datasetid")))
    licence = default.get("license")
    description = default.get("description")
    return DatasetRecord(
        platform=platform,
        portal=portal,
        dataset_id=dataset_id,
        asset_type="dataset",
        is_dataset=True,
        title=text_or_none(default.get("title")),
        description=raw_string(description) if text(description) else None,
        keywords=_texts(default.get("keyword")),
        categories=_texts(default.get("theme")),
        publisher=text_or_none(default.get("publisher")),
        contact=text_or_none(dcat.get("contact_email")),
        license_fields=[raw_string(licence)] if licence is not None else [],
        landing_page=f"{base_url}/explore/dataset/{quote(dataset_id, safe='')}/" if base_url else None,
        created_at=first_time(dcat.get("created"), dcat.get("issued")),
        metadata_modified_at=first_time(default.get("metadata_processed"), default.get("modified")),
        data_modified_at=first_time(default.get("data_processed"), default.get("modified")),
        declared_frequency=first_present(dcat.get("accrualperiodicity"), default.get("update_frequency")),
        distributions=_distributions(dataset_id, base_url),
        columns=_columns(dataset),
        row_count=_int_or_none(default.get("records_count")),
    )


def records_from_document(document: Any, portal: str | None = None) -> list[DatasetRecord]:
    """Every dataset of an ODS catalog response (v2.1, v2.0, v1 or exports/json), in order."""
    datasets = _datasets(document)
    if datasets is None:
        raise ValueError("not an OpenDataSoft catalog: expected `results[]` or `datasets[]`")
    base_url = f"https://{portal}" if portal else None
    return [record_from_dataset(item, portal, base_url) for item in datasets if isinstance(item, dict)]


# ---------------------------------------------------------------- live harvest


def _catalog_url(portal: Any) -> str:
    path = portal.catalog_path or CATALOG_PATH
    return path if path.startswith(("http://", "https://")) else portal.url + "/" + path.lstrip("/")


def _dataset_key(item: Any) -> Any:
    return item.get("dataset_id", item.get("datasetid"))


def _harvest_page(page: Any, items: list, portal: Any, total: Any, warnings: list) -> HarvestPage:
    suspect = page.undecodable > 0
    records = [
        flag_undecodable(record_from_dataset(item, portal.domain, portal.url), item, suspect)
        for item in items
        if isinstance(item, dict)
    ]
    return HarvestPage(records, page.digest, page.url, total, warnings)


def _keyed_record(portal: Any) -> Any:
    """For the export: each dataset (v2.0 nests it in `dataset`) as (its id, its record)."""

    def convert(item: Any) -> tuple[Any, DatasetRecord] | None:
        if isinstance(item, dict) and isinstance(item.get("dataset"), dict):
            item = item["dataset"]
        if not isinstance(item, dict):
            return None
        return _dataset_key(item), record_from_dataset(item, portal.domain, portal.url)

    return convert


def _is_window_refusal(error: HttpError) -> bool:
    """A 400 `InvalidRESTParameterError`: past the first page, the offset went beyond the window."""
    try:
        body = json.loads(error.body) if error.body else None
    except ValueError:
        return False
    return error.status == 400 and isinstance(body, dict) and body.get("error_code") == INVALID_PARAMETER


def harvest(portal: Any, client: Any) -> Iterator[HarvestPage]:
    """Explore v2.1 `catalog/datasets` by `limit` (<= 100) and `offset`, `offset + limit` <= 10,000.

    A catalog larger than that window is read in one `catalog/exports/json` call instead (its
    first page tells the size); when the window fills without a count, or the domain refuses an
    offset inside it (the 10,000 is not documented), the export supplies the datasets the pages
    could not reach.
    """
    client = client.for_portal(portal)
    keep_new = dedupe_by(_dataset_key)
    fetched, total, use_export = 0, None, False
    pages = paginate(
        client,
        _catalog_url(portal),
        {},  # no order_by: which catalog fields sort is not documented; ids are deduplicated
        OffsetPaginator("limit", "offset", MAX_LIMIT, MAX_WINDOW),
        items_of=lambda data: _datasets(data) if isinstance(data, dict) else None,
        total_of=lambda data: data.get("total_count", data.get("nhits")),
        max_pages=portal.max_pages,
        key_of=_dataset_key,
    )
    try:
        for page in pages:
            total = page.total
            if page.number == 1 and total is not None and total > MAX_WINDOW:
                use_export = True
                pages.close()
                break
            fetched += len(page.items)
            items, dropped = keep_new(page.items)
            warnings = [w for w in page.warnings if not w.startswith("offset paging stops")]
            if dropped:
                warnings.append(f"page {page.number}: dropped {dropped} dataset(s) seen on an earlier page")
            yield _harvest_page(page, items, portal, total, warnings)
    except HttpError as error:
        if not (fetched and _is_window_refusal(error)):
            raise
        use_export = True
    if use_export or (fetched >= MAX_WINDOW and (total is None or total > fetched)):
        # one document of the whole catalog: streamed, each dataset a record as it arrives
        paths = ("item", "results.item", "datasets.item")
        response = client.get_json_items(portal.url + EXPORT_PATH, paths, convert=_keyed_record(portal))
        if not response.found:
            raise HttpError(
                f"{response.url} is not an OpenDataSoft catalog export (no dataset list)", response.url
            )
        for position in response.flagged:
            response.items[position][1].flags.append(UNDECODABLE)
        # the same dedupe as the pages (ids seen there or earlier in the export are dropped)
        records = [record for key, record in response.items if keep_new([{"dataset_id": key}])[0]]
        yield HarvestPage(records, response.sha256, response.url, total or response.count, [])


def sample_rows(portal: Any, client: Any, record: DatasetRecord, limit: int) -> list[dict] | None:
    """Up to `limit` rows (at most 100: one call's worth) from `catalog/datasets/{id}/records`.

    A sample needs no paging: one request, so no quota is spent walking a large table.
    """
    if limit <= 0 or not record.dataset_id:
        return []
    url = f"{portal.url}{CATALOG_PATH}/{quote(record.dataset_id, safe='')}/records"
    response = client.for_portal(portal).get_json_items(
        url,
        ("results.item",),
        convert=lambda row: _flat_row(row) if isinstance(row, dict) else None,
        params={"limit": min(limit, MAX_LIMIT)},
        max_items=limit,
    )
    return response.items if response.found else None


def _flat_row(row: dict) -> dict:
    """v2.1 rows are flat; v2.0 nested them as `{"record": {"fields": {...}}}`."""
    nested = row.get("record")
    if isinstance(nested, dict) and isinstance(nested.get("fields"), dict):
        return dict(nested["fields"])
    return row


register_connector(sys.modules[__name__])
