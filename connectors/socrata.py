"""Socrata: the Discovery API (`/api/catalog/v1`) and `/api/views.json`, normalized.

Field sources follow METRICS.md "Where each field comes from". Every Socrata dataset is
served by the SODA API, so each gets a `soda` distribution.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from wwc_pipeline.config import PortalConfig
from wwc_pipeline.connector import HarvestPage, flag_undecodable
from wwc_pipeline.http import HttpClient, HttpError
from wwc_pipeline.model import Column, DatasetRecord, Distribution
from wwc_pipeline.paging import CursorPaginator, dedupe_by, paginate
from wwc_pipeline.registry import register_connector
from wwc_pipeline.text import first_present, first_time, parse_time, present, raw_string, text, text_or_none

platform = "socrata"

_FREQUENCY_KEY_PARTS = ("frequen", "periodicity")
_COMPUTED_COLUMN_PREFIX = ":@"


# --- normalization: recorded or fetched documents -> DatasetRecord -----------------------------


def looks_like(document: Any) -> bool:
    """A Discovery API response (`results[].resource`) or a views.json list of view objects."""
    if isinstance(document, dict):
        results = document.get("results")
        if not isinstance(results, list):
            return False
        if not results:
            return "resultSetSize" in document
        return isinstance(results[0], dict) and isinstance(results[0].get("resource"), dict)
    if isinstance(document, list) and document:
        return all(is_view(item) for item in document[:5])
    return False


def is_view(item: Any) -> bool:
    return isinstance(item, dict) and "id" in item and ("viewType" in item or "assetType" in item)


def records_from_document(document: Any, portal: str | None = None) -> list[DatasetRecord]:
    """Every asset of a Discovery page or a views list, in catalog order."""
    if isinstance(document, dict) and isinstance(document.get("results"), list):
        return [record_from_discovery_result(result, portal) for result in document["results"]]
    if isinstance(document, dict) and is_view(document):
        document = [document]
    if isinstance(document, list):
        return [record_from_view(view, portal) for view in document if isinstance(view, dict)]
    raise ValueError("not a Socrata catalog document (expected a Discovery API response or a views list)")


def is_frequency_key(name: Any) -> bool:
    if isinstance(name, str):
        return _is_frequency_text(name)
    lowered = raw_string(name).lower()
    return any(part in lowered for part in _FREQUENCY_KEY_PARTS)


@lru_cache(maxsize=4096)
def _is_frequency_text(name: str) -> bool:
    """A domain's metadata keys repeat on every dataset: each is judged once."""
    lowered = name.lower()
    return any(part in lowered for part in _FREQUENCY_KEY_PARTS)


def present_texts(*values: Any) -> list[str]:
    """The texts of the present items of several values (lists or single values)."""
    items: list[Any] = []
    for value in values:
        items.extend(value if isinstance(value, list) else [value])
    return [text(item) for item in items if present(item)]


def licence_fields(*values: Any) -> list[str]:
    """Raw strings (HTML kept) of the licence values that exist."""
    return [raw_string(value) for value in values if value is not None and raw_string(value) != ""]


def soda_distribution(portal: str | None, dataset_id: str, base_url: str | None = None) -> Distribution:
    """The SODA endpoint; `base_url` (the configured portal URL) keeps its scheme, else https."""
    base = base_url or (f"https://{portal}" if portal else None)
    url = f"{base}/resource/{dataset_id}.json" if base else None
    return Distribution(format="soda", title="SODA API", url=url)


def integer_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def discovery_frequency(classification: dict) -> str | None:
    """The first `domain_metadata` item about frequency whose value is present."""
    for item in classification.get("domain_metadata") or []:
        if isinstance(item, dict) and is_frequency_key(item.get("key")) and present(item.get("value")):
            return text(item.get("value"))
    return None


def is_computed(field_name: Any) -> bool:
    """Socrata's computed region columns (`:@computed_region_...`) are not the publisher's."""
    return raw_string(field_name).startswith(_COMPUTED_COLUMN_PREFIX)


def discovery_columns(resource: dict) -> list[Column] | None:
    names = resource.get("columns_name")
    if not isinstance(names, list):
        return None
    descriptions = resource.get("columns_description") or []
    field_names = resource.get("columns_field_name") or []
    datatypes = resource.get("columns_datatype") or []
    columns = []
    for position, name in enumerate(names):
        field_name = field_names[position] if position < len(field_names) else None
        if is_computed(field_name):
            continue
        description = descriptions[position] if position < len(descriptions) else None
        datatype = datatypes[position] if position < len(datatypes) else None
        columns.append(
            Column(text(name), text_or_none(description), text_or_none(datatype), text_or_none(field_name))
        )
    return columns


def record_from_discovery_result(
    result: dict, portal: str | None = None, base_url: str | None = None
) -> DatasetRecord:
    """One Discovery API result (`resource`, `classification`, `metadata`, ...)."""
    resource = result.get("resource") or {}
    classification = result.get("classification") or {}
    metadata = result.get("metadata") or {}
    owner = result.get("owner") or {}
    portal = portal or text_or_none(metadata.get("domain"))
    dataset_id = raw_string(resource.get("id"))
    asset_type = text_or_none(resource.get("type"))
    is_dataset = asset_type == "dataset"
    page_views = resource.get("page_views") or {}
    return DatasetRecord(
        platform=platform,
        portal=portal,
        dataset_id=dataset_id,
        asset_type=asset_type,
        is_dataset=is_dataset,
        title=text_or_none(resource.get("name")),
        description=text_or_none(resource.get("description")),
        keywords=present_texts(classification.get("domain_tags"), classification.get("tags")),
        categories=present_texts(classification.get("domain_category"), classification.get("categories")),
        publisher=first_present(resource.get("attribution"), owner.get("display_name")),
        contact=text_or_none(resource.get("contact_email")),
        license_fields=licence_fields(metadata.get("license")),
        landing_page=text_or_none(result.get("permalink")) or text_or_none(result.get("link")),
        created_at=parse_time(resource.get("createdAt")),
        metadata_modified_at=parse_time(resource.get("metadata_updated_at")),
        data_modified_at=first_time(resource.get("data_updated_at"), resource.get("updatedAt")),
        declared_frequency=discovery_frequency(classification),
        distributions=[soda_distribution(portal, dataset_id, base_url)] if is_dataset else [],
        columns=discovery_columns(resource),
        views=integer_or_none(page_views.get("page_views_total")),
        downloads=integer_or_none(resource.get("download_count")),
    )


def view_is_dataset(view: dict) -> bool:
    """`assetType == "dataset"`; older views: the default tabular view of a table."""
    if view.get("assetType") is not None:
        return view.get("assetType") == "dataset"
    return view.get("viewType") == "tabular" and "default" in (view.get("flags") or [])


def view_frequency(view: dict) -> str | None:
    """The first custom field about frequency (by group or field name) whose value is present."""
    custom_fields = (view.get("metadata") or {}).get("custom_fields") or {}
    if not isinstance(custom_fields, dict):
        return None
    for group_name, fields in custom_fields.items():
        if not isinstance(fields, dict):
            continue
        for field_name, value in fields.items():
            if (is_frequency_key(group_name) or is_frequency_key(field_name)) and present(value):
                return text(value)
    return None


def view_columns(view: dict) -> list[Column] | None:
    columns = view.get("columns")
    if not isinstance(columns, list):
        return None
    return [
        Column(
            text(column.get("name")),
            text_or_none(column.get("description")),
            text_or_none(column.get("dataTypeName")),
            text_or_none(column.get("fieldName")),
        )
        for column in columns
        if isinstance(column, dict) and not is_computed(column.get("fieldName"))
    ]


def record_from_view(view: dict, portal: str | None = None, base_url: str | None = None) -> DatasetRecord:
    """One view object of `/api/views.json` (or `/api/views/ID.json`); times are epoch seconds.

    `base_url` (the configured portal URL, live harvests only) keeps its scheme in the links."""
    dataset_id = raw_string(view.get("id"))
    is_dataset = view_is_dataset(view)
    fallback_type = "dataset" if is_dataset else first_present(view.get("displayType"), view.get("viewType"))
    asset_type = text_or_none(view.get("assetType")) or fallback_type
    licence = view.get("license") if isinstance(view.get("license"), dict) else {}
    return DatasetRecord(
        platform=platform,
        portal=portal,
        dataset_id=dataset_id,
        asset_type=asset_type,
        is_dataset=is_dataset,
        title=text_or_none(view.get("name")),
        description=text_or_none(view.get("description")),
        keywords=present_texts(view.get("tags")),
        categories=present_texts(view.get("category")),
        publisher=text_or_none(view.get("attribution")),
        contact=text_or_none(view.get("contactEmail")),
        license_fields=licence_fields(licence.get("name"), view.get("licenseId")),
        landing_page=f"{base_url or f'https://{portal}'}/d/{dataset_id}" if portal or base_url else None,
        created_at=parse_time(view.get("createdAt")),
        metadata_modified_at=parse_time(view.get("viewLastModified")),
        data_modified_at=parse_time(view.get("rowsUpdatedAt")),
        declared_frequency=view_frequency(view),
        distributions=[soda_distribution(portal, dataset_id, base_url)] if is_dataset else [],
        columns=view_columns(view),
        row_count=integer_or_none(view.get("rowCount")),
        views=integer_or_none(view.get("viewCount")),
        downloads=integer_or_none(view.get("downloadCount")),
    )


# --- live harvest: the Discovery API paged with scroll_id, and SODA row samples ------------------

CATALOG_PATH = "/api/catalog/v1"
# The API allows limit <= 10000 and answers 400 when offset + limit > 10000 or when `order` comes
# with `scroll_id`, so a full harvest pages with scroll_id only (never offset, never order).
PAGE_SIZE = 1000
# Per-view metadata (/api/views/ID.json) is never fetched: every field METRICS.md reads for the
# Discovery API (contact_email and domain_metadata included) is in the catalog result itself.


def discovery_id(result: Any) -> str:
    return result["resource"]["id"]


def harvest(portal: PortalConfig, client: HttpClient, page_size: int = PAGE_SIZE) -> Iterator[HarvestPage]:
    """Every asset of the portal's own domain: the Discovery API, or `/api/views.json` when the
    Discovery API lists nothing for the domain or is not there (socrata_views.py).

    Raises http.HttpError or paging.PagingError (one-line messages) when the catalog cannot be read.
    """
    from wwc_pipeline.connectors.socrata_views import with_views_fallback

    client = client.for_portal(portal)  # the portal's own host is trusted, its limits apply
    return with_views_fallback(portal, client, harvest_discovery(portal, client, page_size))


def harvest_discovery(
    portal: PortalConfig, client: HttpClient, page_size: int = PAGE_SIZE
) -> Iterator[HarvestPage]:
    """Every asset the Discovery API lists for the domain, one HarvestPage per page, deduplicated by id."""
    path = portal.catalog_path or CATALOG_PATH
    url = path if path.startswith(("http://", "https://")) else portal.url + path
    params = {"domains": portal.domain, "search_context": portal.domain}
    token = portal.app_token()
    headers = {"X-App-Token": token} if token else None  # the client keeps it out of logs and errors
    # A blank scroll_id on the first request: without it page 1 comes in relevance order and the
    # id cursor that follows skips assets (Discovery API "Deep scrolling": leave it blank first).
    paginator = CursorPaginator(
        "scroll_id", discovery_id, size_param="limit", page_size=page_size, initial_cursor=""
    )
    keep = dedupe_by(discovery_id)
    pages = paginate(
        client,
        url,
        params,
        paginator,
        items_of=lambda data: data["results"],
        total_of=lambda data: data.get("resultSetSize"),
        max_pages=portal.max_pages,
        key_of=discovery_id,
        headers=headers,
    )
    for page in pages:
        fresh, dropped = keep(page.items)
        usable = [result for result in fresh if isinstance(result, dict) and _has_id(result)]
        warnings = list(page.warnings)
        if dropped:
            warnings.append(
                f"page {page.number}: {dropped} results repeat an id already harvested; kept the first"
            )
        if len(usable) < len(fresh):
            warnings.append(
                f"page {page.number}: {len(fresh) - len(usable)} results without resource.id skipped"
            )
        if page.number == 1 and not page.items:
            # unknown or misspelt parameters filter silently: an empty answer is worth a second look
            warnings.append(
                f"the Discovery API lists no assets for domains={portal.domain}; "
                "check that the portal URL is the Socrata site's own domain"
            )
        suspect = page.undecodable > 0
        records = [
            flag_undecodable(record_from_discovery_result(result, portal.domain, portal.url), result, suspect)
            for result in usable
        ]
        yield HarvestPage(records, page.digest, page.url, page.total, warnings)


def _has_id(result: dict) -> bool:
    resource = result.get("resource")
    return isinstance(resource, dict) and present(resource.get("id"))


def sample_rows(
    portal: PortalConfig, client: HttpClient, record: DatasetRecord, limit: int
) -> list[dict] | None:
    """Up to `limit` rows of a dataset: one SODA 2 GET of `/resource/ID.json?$limit=N`.

    The rows stream in and reading stops at `limit` (a server ignoring `$limit` costs nothing),
    through the client's one retry policy, size cap, deadline and address policy. Returns None
    for an asset that is not a dataset (it has no rows to sample). Raises http.HttpError with a
    one-line reason naming the URL when the rows cannot be had, so that the content checks can
    record n/a with that reason.
    """
    if not record.is_dataset:
        return None
    if limit <= 0:
        return []
    token = portal.app_token()
    response = client.for_portal(portal).get_json_items(
        f"{portal.url}/resource/{record.dataset_id}.json",
        ("item",),
        convert=lambda row: row if isinstance(row, dict) else None,
        params={"$limit": limit},
        headers={"X-App-Token": token} if token else None,  # the client keeps it out of logs and errors
        max_items=limit,
    )
    if not response.found:
        raise HttpError(f"GET {response.url} returned no list of rows", response.url, response.status)
    return response.items


register_connector(sys.modules[__name__])
