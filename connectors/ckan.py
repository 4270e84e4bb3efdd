"""CKAN connector: the Action API's `package_search`, paged the way ckanext-harvest pages it.

CKAN's default sort (score, then metadata_modified) moves datasets between pages during a
crawl, and `rows` above the site maximum is cut silently; so the harvest sorts by `id asc`,
asks for at most 1000 rows, drops ids it has already seen, stops on an empty page and gives up
when two pages come back identical (a portal that ignores `start`).

String fields follow METRICS.md: `title`, keywords, categories, publisher, contact and the
frequency hold their text; `notes`, licence fields and resource formats the raw string.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from wwc_pipeline.connector import HarvestPage, RowSample
from wwc_pipeline.http import HttpError, NotJsonError
from wwc_pipeline.model import Column, DatasetRecord, Distribution
from wwc_pipeline.paging import OffsetPaginator, dedupe_by, paginate
from wwc_pipeline.registry import register_connector
from wwc_pipeline.text import first_present, parse_time, raw_string, text, text_or_none

platform = "ckan"

ACTION_PATHS = ("/api/3/action/", "/api/action/")
MAX_ROWS = 1000  # ckan.search.rows_max default: larger values are cut without an error
_FREQUENCY_KEYS = ("frequen", "periodicity")


# ---------------------------------------------------------------- recognising and reading


def _is_package(item: Any) -> bool:
    return isinstance(item, dict) and ("resources" in item or "num_resources" in item)


def _packages(document: Any) -> list[Any] | None:
    """`result.results[]` (package_search), `result[]` (list actions), a bare result, or `[]`."""
    if isinstance(document, dict) and "result" in document:
        document = document["result"]
    if isinstance(document, dict) and isinstance(document.get("results"), list):
        return document["results"]
    if isinstance(document, list):
        return document
    return None


def looks_like(document: Any) -> bool:
    """The `{help, success, result}` envelope, or a list of package dicts."""
    if isinstance(document, dict) and "success" in document and "result" in document:
        return True
    packages = _packages(document)
    if not packages:
        return False
    items = [item for item in packages[:20] if isinstance(item, dict)]
    return bool(items) and all(_is_package(item) for item in items)


def _raw_or_none(value: Any) -> str | None:
    return raw_string(value) if text(value) else None


def _names(items: Any, key: str) -> list[str]:
    """`tags[].name`, `groups[].title` (a plain string item counts as itself)."""
    found = []
    for item in items if isinstance(items, list) else []:
        cleaned = text(item.get(key)) if isinstance(item, dict) else text(item)
        if cleaned:
            found.append(cleaned)
    return found


def _matches_frequency(name: Any) -> bool:
    lowered = str(name).lower()
    return any(key in lowered for key in _FREQUENCY_KEYS)


def _extras(package: dict) -> list[tuple[Any, Any]]:
    extras = package.get("extras")
    if isinstance(extras, dict):
        return list(extras.items())
    if isinstance(extras, list):
        return [(item.get("key"), item.get("value")) for item in extras if isinstance(item, dict)]
    return []


def declared_frequency(package: dict) -> str | None:
    """First top-level key, then first `extras` key, naming a frequency with a present value."""
    for name, value in [*package.items(), *_extras(package)]:
        if name == "extras" or not _matches_frequency(name):
            continue
        cleaned = text(value)
        if cleaned:
            return cleaned
    return None


def _publisher(package: dict) -> str | None:
    organization = package.get("organization")
    organization_title = organization.get("title") if isinstance(organization, dict) else None
    return first_present(organization_title, package.get("author"))


def _distributions(package: dict) -> list[Distribution]:
    """`resources[]`; a resource in the DataStore also gives a `datastore` distribution."""
    found: list[Distribution] = []
    for resource in package.get("resources") or []:
        if not isinstance(resource, dict):
            continue
        title = text_or_none(resource.get("name"))
        found.append(
            Distribution(
                format=_raw_or_none(resource.get("format")),
                media_type=_raw_or_none(resource.get("mimetype")),
                title=title,
                url=first_present(resource.get("url")),
            )
        )
        if resource.get("datastore_active") is True:
            found.append(Distribution(format="datastore", title=title))
    return found


def _last_update(package: dict) -> Any:
    """The latest readable `resources[].last_modified`, else `metadata_modified`."""
    times = [
        parse_time(resource.get("last_modified"))
        for resource in package.get("resources") or []
        if isinstance(resource, dict)
    ]
    readable = [moment for moment in times if moment is not None]
    return max(readable) if readable else parse_time(package.get("metadata_modified"))


def _views(package: dict) -> int | None:
    tracking = package.get("tracking_summary")
    total = tracking.get("total") if isinstance(tracking, dict) else None
    return total if isinstance(total, int) and not isinstance(total, bool) else None


def record_from_package(package: dict, portal: str | None) -> DatasetRecord:
    """One CKAN package dict as a DatasetRecord (METRICS.md, CKAN column)."""
    licence_fields = [
        raw_string(package[key]) for key in ("license_id", "license_title") if package.get(key) is not None
    ]
    return DatasetRecord(
        platform=platform,
        portal=portal,
        dataset_id=raw_string(package.get("id")),
        asset_type=text_or_none(package.get("type")) or "dataset",
        is_dataset=True,
        title=text_or_none(package.get("title")),
        description=_raw_or_none(package.get("notes")),
        keywords=_names(package.get("tags"), "name"),
        categories=_names(package.get("groups"), "title"),
        publisher=_publisher(package),
        contact=first_present(package.get("maintainer_email"), package.get("author_email")),
        license_fields=licence_fields,
        landing_page=None,
        created_at=parse_time(package.get("metadata_created")),
        metadata_modified_at=parse_time(package.get("metadata_modified")),
        data_modified_at=_last_update(package),
        declared_frequency=declared_frequency(package),
        distributions=_distributions(package),
        columns=None,
        views=_views(package),
    )


def records_from_document(document: Any, portal: str | None = None) -> list[DatasetRecord]:
    """Every package of a CKAN response or dump, in order."""
    packages = _packages(document)
    if packages is None:
        raise ValueError("not a CKAN catalog: expected `result.results[]`, `result[]` or a list of packages")
    return [record_from_package(package, portal) for package in packages if isinstance(package, dict)]


# ---------------------------------------------------------------- live harvest


def _action_bases(portal: Any) -> list[str]:
    """Where the Action API lives: `catalog_path` when configured, else /api/3/action/ then /api/action/."""
    if portal.catalog_path:
        path = portal.catalog_path.removesuffix("package_search")
        base = path if path.startswith(("http://", "https://")) else portal.url + "/" + path.lstrip("/")
        return [base.rstrip("/") + "/"]
    return [portal.url + path for path in ACTION_PATHS]


class CkanActionError(HttpError):
    """The action ran and said no (`success: false`), whatever the HTTP status."""


def _result(data: Any, url: str) -> Any:
    """The `result` of an action response; a `success: false` envelope (even in a 200) is an error."""
    if not isinstance(data, dict) or ("result" not in data and "success" not in data):
        raise HttpError(f"{url} is not a CKAN Action API response (no `success`/`result`)", url)
    if data.get("success") is False:
        error = data.get("error")
        detail = error.get("message") or error.get("__type") if isinstance(error, dict) else error
        message = " ".join(str(detail or "no error message").split())[:200]
        raise CkanActionError(f"CKAN action at {url} answered success: false: {message}", url, 200)
    return data.get("result")


def _is_missing_api(error: HttpError) -> bool:
    """404, or an HTML page instead of JSON: this action path does not exist here, try the next.

    Any other failure (a truncated body, `success: false`, a 5xx) came from the API itself."""
    if isinstance(error, CkanActionError):
        return False
    return error.status == 404 or isinstance(error, NotJsonError)


def _action_pages(
    portal: Any, client: Any, action: str, params: dict, items_of: Any, total_of: Any, **paging: Any
) -> Iterator[Any]:
    """`paginate` over an action, falling back to the next action path when the first is missing.

    `items_of`/`total_of` read the action's `result`, once its envelope has been checked."""
    bases = _action_bases(portal)
    for index, base in enumerate(bases):
        url = base + action
        started = False
        try:
            pages = paginate(
                client,
                url,
                params,
                items_of=lambda data, url=url: items_of(_result(data, url)),
                total_of=lambda data: total_of(data["result"]),
                **paging,
            )
            for page in pages:
                started = True
                yield page
            return
        except HttpError as error:
            if started or index == len(bases) - 1 or not _is_missing_api(error):
                raise


def harvest(portal: Any, client: Any) -> Iterator[HarvestPage]:
    """`package_search` by `id asc`, `rows` <= 1000 and `start`, ids deduplicated across pages.

    Ends on an empty page (or a short one when the count agrees); two identical pages, or a page
    of ids already seen, abort with PagingError; `success: false` raises HttpError.
    """
    keep_new = dedupe_by(lambda package: package.get("id"))
    pages = _action_pages(
        portal,
        client,
        "package_search",
        {"q": "*:*", "sort": "id asc"},
        paginator=OffsetPaginator("rows", "start", MAX_ROWS),
        items_of=lambda result: result["results"],
        total_of=lambda result: result["count"],
        max_pages=portal.max_pages,
        key_of=lambda package: package.get("id"),
    )
    for page in pages:
        packages, dropped = keep_new([item for item in page.items if isinstance(item, dict)])
        warnings = list(page.warnings)
        if dropped:
            warnings.append(f"page {page.number}: dropped {dropped} dataset(s) seen on an earlier page")
        yield HarvestPage(
            records=[record_from_package(package, portal.domain) for package in packages],
            raw_digest=page.digest,
            url=page.url,
            total_hint=page.total,
            warnings=warnings,
        )


_DATASTORE_INTERNAL = ("_id", "_full_text")


def sample_rows(portal: Any, client: Any, record: DatasetRecord, limit: int) -> list[dict] | None:
    """Rows from the DataStore (`datastore_search`) when the dataset has a resource there, else None.

    The package is read again (`package_show`) for its DataStore resource id, which the record
    does not keep; DataStore-internal columns (`_id`, `_full_text`) are dropped. The DataStore's
    field types (`fields`) travel with the rows as `RowSample.columns`: the package lists none.
    """
    if not any(distribution.format == "datastore" for distribution in record.distributions):
        return None
    bases = _action_bases(portal)
    for index, base in enumerate(bases):
        try:
            shown = client.get_json(base + "package_show", params={"id": record.dataset_id})
        except HttpError as error:
            if _is_missing_api(error) and index < len(bases) - 1:
                continue
            raise
        package = _result(shown.data, shown.url)
        resource_id = next(
            (
                resource.get("id")
                for resource in (package or {}).get("resources") or []
                if isinstance(resource, dict) and resource.get("datastore_active") is True
            ),
            None,
        )
        if not resource_id:
            return None
        params = {"resource_id": resource_id, "limit": limit}
        found = client.get_json(base + "datastore_search", params=params)
        result = _result(found.data, found.url) or {}
        fields = [f for f in result.get("fields") or [] if isinstance(f, dict) and text_or_none(f.get("id"))]
        columns = [
            Column(text(f["id"]), datatype=text_or_none(f.get("type")))
            for f in fields
            if text(f["id"]) not in _DATASTORE_INTERNAL
        ]
        rows = result.get("records") or []
        return RowSample(
            (
                {key: value for key, value in row.items() if key not in _DATASTORE_INTERNAL}
                for row in rows[:limit]
                if isinstance(row, dict)
            ),
            columns or None,
        )
    return None


register_connector(sys.modules[__name__])
