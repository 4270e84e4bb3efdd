"""DCAT-US `data.json` connector: Project Open Data 1.1 catalogs, POD 1.0 lists, ArcGIS Hub feeds.

A data.json is one document (the spec has no paging), but some producers page it anyway
(ckanext-dcat `?page=N`), and Hub streams it, so a truncated body is possible: the harvest
validates the JSON and counts the entries before handing them on.

String fields follow METRICS.md: `title`, keywords, categories, publisher, contact and the
frequency hold their text; `description`, licence fields and distribution formats hold the raw
string (HTML kept), which the checks clean once themselves.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

from wwc_pipeline.connector import HarvestPage
from wwc_pipeline.http import HttpError, NotJsonError, size_text
from wwc_pipeline.model import UNDECODABLE, DatasetRecord, Distribution
from wwc_pipeline.registry import register_connector
from wwc_pipeline.text import first_present, first_time, parse_time, raw_string, text, text_or_none

platform = "dcat"

DEFAULT_PATH = "/data.json"
HUB_FEED_PATH = "/api/feed/dcat-us/1.1.json"  # ArcGIS Hub's DCAT-US 1.1 feed since 2022
PRODUCER_PAGE_SIZE = 100  # ckanext-dcat's default datasets_per_page


# ---------------------------------------------------------------- recognising and reading


def _entries(document: Any) -> list[Any] | None:
    """The catalog's entries: `dataset[]` (POD 1.1) or the top-level list (POD 1.0)."""
    if isinstance(document, dict) and isinstance(document.get("dataset"), list):
        return document["dataset"]
    if isinstance(document, list):
        return document
    return None


def _looks_like_entry(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    if any(key in item for key in ("viewType", "assetType", "resources", "num_resources", "resource")):
        return False  # Socrata views, CKAN packages, Socrata Discovery results
    return any(key in item for key in ("identifier", "accessURL", "distribution"))


def looks_like(document: Any) -> bool:
    """A `{dataset: [...]}` catalog, or a top-level list of POD entries."""
    if isinstance(document, dict):
        if not isinstance(document.get("dataset"), list):
            return False
        items = [item for item in document["dataset"][:20] if isinstance(item, dict)]
        return not items or any(_looks_like_entry(item) for item in items) or "conformsTo" in document
    if isinstance(document, list):
        items = [item for item in document[:20] if isinstance(item, dict)]
        return bool(items) and all(_looks_like_entry(item) for item in items)
    return False


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _keywords(value: Any) -> list[str]:
    """`keyword` is a list, or (POD 1.0 as Socrata wrote it) one comma-separated string."""
    pieces = value.split(",") if isinstance(value, str) else _as_list(value)
    return [cleaned for cleaned in (text(piece) for piece in pieces) if cleaned]


def _categories(value: Any) -> list[str]:
    return [cleaned for cleaned in (text(item) for item in _as_list(value)) if cleaned]


def _contact(entry: dict) -> str | None:
    """`contactPoint` (its `hasEmail`, else `fn`; POD 1.0: a string), else `mbox`."""
    point = entry.get("contactPoint")
    if isinstance(point, dict):
        chosen = first_present(point.get("hasEmail"), point.get("fn"))
    else:
        chosen = first_present(point)
    return chosen or first_present(entry.get("mbox"))


def _raw_or_none(value: Any) -> str | None:
    return raw_string(value) if text(value) else None


def _url(item: dict) -> str | None:
    return first_present(item.get("downloadURL"), item.get("accessURL"))


def _distributions(entry: dict) -> list[Distribution]:
    """`distribution[]`, POD 1.0 `formats[].value`/`.label` as format texts, and the entry's `format`."""
    found: list[Distribution] = []
    for item in _as_list(entry.get("distribution")):
        if not isinstance(item, dict):
            continue
        url = _url(item)
        pod_formats = [fmt for fmt in _as_list(item.get("formats")) if isinstance(fmt, dict)]
        main = Distribution(
            format=_raw_or_none(item.get("format")),
            media_type=_raw_or_none(item.get("mediaType")),
            title=text_or_none(item.get("title")),
            url=url,
        )
        if main.format or main.media_type or main.title or not pod_formats:
            found.append(main)
        for fmt in pod_formats:
            for key in ("value", "label"):
                format_text = _raw_or_none(fmt.get(key))
                if format_text:
                    found.append(Distribution(format=format_text, url=url))
    own_format = _raw_or_none(entry.get("format"))
    if own_format:
        found.append(Distribution(format=own_format, url=_url(entry)))
    return found


def _is_catalog_self_record(entry: dict) -> bool:
    """Socrata's POD 1.0 files list the data.json file itself as their first entry."""
    return raw_string(entry.get("identifier")).strip().endswith("/data.json")


def record_from_entry(entry: dict, portal: str | None) -> DatasetRecord:
    """One DCAT entry as a DatasetRecord (METRICS.md "Where each field comes from", DCAT column)."""
    is_dataset = not _is_catalog_self_record(entry)
    licence = entry.get("license")
    return DatasetRecord(
        platform=platform,
        portal=portal,
        dataset_id=raw_string(entry.get("identifier")),
        asset_type="dataset" if is_dataset else "catalog",
        is_dataset=is_dataset,
        title=text_or_none(entry.get("title")),
        description=_raw_or_none(entry.get("description")),
        keywords=_keywords(entry.get("keyword")),
        categories=_categories(entry.get("theme")),
        publisher=text_or_none(entry.get("publisher")),
        contact=_contact(entry),
        license_fields=[raw_string(licence)] if licence is not None else [],
        landing_page=first_present(entry.get("landingPage")),
        created_at=first_time(entry.get("issued"), entry.get("created"), entry.get("releaseDate")),
        metadata_modified_at=None,
        data_modified_at=parse_time(entry.get("modified")),
        declared_frequency=first_present(entry.get("accrualPeriodicity"), entry.get("frequency")),
        distributions=_distributions(entry),
        columns=None,
    )


def _document_portal(document: Any, entries: list[Any]) -> str | None:
    """The domain the file names: the catalog's `@id`, else the self-record's identifier."""
    candidates = [document.get("@id")] if isinstance(document, dict) else []
    candidates += [entry.get("identifier") for entry in entries[:1] if isinstance(entry, dict)]
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip().endswith("/data.json"):
            netloc = urlparse(candidate.strip()).netloc
            if netloc:
                return netloc
    return None


def records_from_document(document: Any, portal: str | None = None) -> list[DatasetRecord]:
    """Every entry of a data.json document, in catalog order."""
    entries = _entries(document)
    if entries is None:
        raise ValueError("not a DCAT-US data.json: expected a `dataset` list or a top-level list")
    portal = portal or _document_portal(document, entries)
    return [record_from_entry(entry, portal) for entry in entries if isinstance(entry, dict)]


# ---------------------------------------------------------------- live harvest


def _feed_urls(portal: Any) -> list[str]:
    """`catalog_path` when configured, else /data.json then ArcGIS Hub's feed."""
    if portal.catalog_path:
        path = portal.catalog_path
        return [path if path.startswith(("http://", "https://")) else portal.url + "/" + path.lstrip("/")]
    return [portal.url + DEFAULT_PATH, portal.url + HUB_FEED_PATH]


class NotACatalogError(HttpError):
    """The URL answered with JSON, but not with a data.json catalog."""


ENTRY_PATHS = ("dataset.item", "item")  # POD 1.1 `{dataset: [...]}`, POD 1.0 a top-level list


def _fetch_catalog(client: Any, url: str, portal: Any, params: dict | None = None) -> Any:
    """GET one data.json document, its entries turned into records as they stream in (a Hub feed
    of many MB never sits in memory whole), and check it is a catalog."""

    def record_of(entry: Any) -> DatasetRecord | None:
        return record_from_entry(entry, portal.domain) if isinstance(entry, dict) else None

    response = client.get_json_items(url, ENTRY_PATHS, convert=record_of, params=params)
    if not response.found:
        data = response.document
        shape = "keys: " + ", ".join(list(data)[:8]) if isinstance(data, dict) else type(data).__name__
        if data is None:
            shape = f"none found in {size_text(response.size)}"
        message = f"{response.url} is not a DCAT-US data.json (no `dataset` list; {shape})"
        raise NotACatalogError(message, response.url, response.status)
    for position in response.flagged:
        response.items[position].flags.append(UNDECODABLE)
    return response


def _feed_missing(error: HttpError) -> bool:
    """404, or an HTML page where JSON was expected: no feed at this URL, try the next one.

    A truncated body or a 5xx is the feed's own failure: reported, not hidden behind a 404 of the next."""
    return error.status == 404 or isinstance(error, NotJsonError)


def _first_feed(portal: Any, client: Any) -> tuple[str, Any]:
    """The first feed URL that answers; a 404 or an HTML page moves on to the next candidate."""
    urls = _feed_urls(portal)
    for index, url in enumerate(urls):
        try:
            return url, _fetch_catalog(client, url, portal)
        except HttpError as error:
            if not _feed_missing(error) or index == len(urls) - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _page(response: Any, warnings: list[str] | None = None) -> HarvestPage:
    notes = list(warnings or [])
    if response.skipped:
        notes.append(f"{response.url}: {response.skipped} entries are not JSON objects, skipped")
    return HarvestPage(response.items, response.sha256, response.url, response.count, notes)


def harvest(portal: Any, client: Any) -> Iterator[HarvestPage]:
    """The feed as one page; then `?page=N` while a ckanext-dcat style producer keeps paging.

    A data.json is one document by the spec, so a second page is asked for only when the first
    holds a whole multiple of ckanext-dcat's page size (100). A producer that ignores `page`
    answers with the same document again: that ends paging, as does an empty page or one whose
    identifiers were all seen (the last with a warning). Hub feeds are never paged.
    """
    client = client.for_portal(portal)
    url, response = _first_feed(portal, client)
    yield _page(response)
    if HUB_FEED_PATH in url or not response.count or response.count % PRODUCER_PAGE_SIZE:
        return
    digests = {response.sha256}
    seen = _identifiers(response.items)
    for number in range(2, portal.max_pages + 1):
        response = _fetch_catalog(client, url, portal, {"page": number})
        if not response.count or response.sha256 in digests:
            return
        ids = _identifiers(response.items)
        if ids and ids <= seen:
            warning = f"{response.url} repeats only datasets of earlier pages; paging stopped"
            yield HarvestPage([], response.sha256, response.url, response.count, [warning])
            return
        digests.add(response.sha256)
        seen |= ids
        last = number == portal.max_pages
        notes = [f"stopped after {number} pages (max_pages); the catalog may hold more"] if last else []
        yield _page(response, notes)


def _identifiers(records: list[DatasetRecord]) -> set[str]:
    """The non-empty identifiers of a page (entries without one cannot show a page repeating)."""
    return {record.dataset_id for record in records} - {""}


def sample_rows(portal: Any, client: Any, record: DatasetRecord, limit: int) -> list[dict] | None:
    """None: a DCAT catalog only links to files of any format and size, it serves no rows itself."""
    return None


register_connector(sys.modules[__name__])
