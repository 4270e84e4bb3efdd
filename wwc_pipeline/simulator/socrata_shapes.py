"""Generated entries in Socrata's real shapes: Discovery results, views, SODA 2.1 rows.

Field names and value styles follow the recorded responses in ../shared/real-portals
(socrata-discovery-chicago-*, socrata-views-*): ISO times with `.000Z` in Discovery, epoch
seconds in views, frequency prose under `Metadata_Frequency` / custom field Metadata/Frequency.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import date

from wwc_pipeline.simulator import vocabulary as vocab
from wwc_pipeline.simulator.common import Site, iso_z
from wwc_pipeline.simulator.generator import Entry

DISCOVERY_DATATYPE = {
    "text": "Text",
    "number": "Number",
    "calendar_date": "Calendar date",
    "checkbox": "Checkbox",
}
SODA_TYPE = {
    "text": "text",
    "number": "number",
    "calendar_date": "floating_timestamp",
    "checkbox": "checkbox",
}
# asset type -> (lens_view_type, display type, viewType)
LENS = {
    "dataset": ("tabular", "table", "tabular"),
    "chart": ("tabular", "chart", "tabular"),
    "filter": ("tabular", "filter", "tabular"),
    "map": ("geo", "map", "geo"),
    "story": ("story", "story", "story"),
}


def owner_id(name: str) -> str:
    digest = hashlib.sha1(name.encode()).hexdigest()
    return f"{digest[:4]}-{digest[4:8]}"


def _url_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def links(entry: Entry, site: Site) -> tuple[str, str]:
    if entry.asset_type == "story":
        url = f"{site.base_url}/stories/s/{entry.uid}"
        return url, url
    return (
        f"{site.base_url}/d/{entry.uid}",
        f"{site.base_url}/{_url_part(entry.category)}/{_url_part(entry.title)[:50]}/{entry.uid}",
    )


def page_views(total: int) -> dict:
    week, month = total // 200, total // 50
    return {
        "page_views_last_week": week,
        "page_views_last_month": month,
        "page_views_total": total,
        "page_views_last_week_log": math.log2(1 + week),
        "page_views_last_month_log": math.log2(1 + month),
        "page_views_total_log": math.log2(1 + total),
    }


def discovery(entry: Entry, site: Site) -> dict:
    """One `results[]` item of `/api/catalog/v1`."""
    lens, display, _ = LENS[entry.asset_type]
    permalink, link = links(entry, site)
    columns = entry.columns
    owner = {"id": owner_id(entry.department), "user_type": "interactive", "display_name": entry.department}
    domain_metadata = []
    if entry.cadence:
        domain_metadata.append(
            {"key": "Metadata_Frequency", "value": vocab.CADENCE_TEXT["socrata"][entry.cadence]}
        )
    domain_metadata.append({"key": "Metadata_Data-Owner", "value": entry.department})
    metadata: dict = {"domain": site.domain}
    if entry.licence:
        metadata["license"] = vocab.LICENCES[entry.licence]["socrata"]
    return {
        "resource": {
            "name": entry.title,
            "id": entry.uid,
            "resource_name": None,
            "parent_fxf": [entry.parent] if entry.parent else [],
            "description": entry.description,
            "attribution": entry.department,
            "attribution_link": None,
            "contact_email": entry.contact_email,
            "type": entry.asset_type,
            "updatedAt": iso_z(entry.updated),
            "createdAt": iso_z(entry.created),
            "metadata_updated_at": iso_z(entry.metadata_modified),
            "data_updated_at": iso_z(entry.data_modified),
            "page_views": page_views(entry.views),
            "columns_name": [c.name for c in columns],
            "columns_field_name": [c.field_name for c in columns],
            "columns_datatype": [DISCOVERY_DATATYPE[c.datatype] for c in columns],
            "columns_description": [c.description or "" for c in columns],
            "columns_format": [{"align": "right" if c.datatype == "number" else "left"} for c in columns],
            "download_count": entry.downloads,
            "provenance": "official",
            "lens_view_type": lens,
            "lens_display_type": display,
            "locked": False,
            "blob_mime_type": None,
            "hide_from_data_json": False,
            "publication_date": iso_z(entry.created),
        },
        "classification": {
            "categories": [],
            "tags": [],
            "domain_category": entry.category,
            "domain_tags": list(entry.tags),
            "domain_metadata": domain_metadata,
        },
        "metadata": metadata,
        "permalink": permalink,
        "link": link,
        "owner": owner,
        "creator": dict(owner),
    }


def view(entry: Entry, site: Site) -> dict:
    """One `/api/views/<id>.json` object (and one item of `/api/views.json`)."""
    _, display, view_type = LENS[entry.asset_type]
    owner = {
        "id": owner_id(entry.department),
        "displayName": entry.department,
        "screenName": entry.department,
        "type": "interactive",
    }
    custom = {"Data Owner": entry.department}
    if entry.cadence:
        custom = {"Frequency": vocab.CADENCE_TEXT["socrata"][entry.cadence], **custom}
    doc: dict = {"id": entry.uid, "name": entry.title, "assetType": entry.asset_type}
    doc["attribution"] = entry.department
    doc["averageRating"] = 0
    doc["category"] = entry.category
    doc["createdAt"] = entry.created
    if entry.description:
        doc["description"] = entry.description
    doc.update(
        displayType=display,
        downloadCount=entry.downloads,
        hideFromCatalog=False,
        hideFromDataJson=False,
        indexUpdatedAt=entry.updated,
        newBackend=True,
        numberOfComments=0,
        oid=entry.row_seed % 10**8,
        provenance="official",
        publicationAppendEnabled=False,
        publicationDate=entry.created,
        publicationStage="published",
    )
    if entry.asset_type != "story":
        doc["rowsUpdatedAt"] = entry.data_modified
        doc["rowsUpdatedBy"] = owner["id"]
    doc.update(totalTimesRated=0, viewCount=entry.views, viewLastModified=entry.metadata_modified)
    doc["viewType"] = view_type
    if entry.licence:
        licence = vocab.LICENCES[entry.licence]
        if licence["socrata_id"]:
            doc["licenseId"] = licence["socrata_id"]
        doc["license"] = {"name": licence["socrata"]}
    if entry.contact_email:
        doc["contactEmail"] = entry.contact_email
    doc["columns"] = [
        {
            "id": 1000 + position,
            "name": column.name,
            "dataTypeName": column.datatype,
            **({"description": column.description} if column.description else {}),
            "fieldName": column.field_name,
            "position": position,
            "renderTypeName": column.datatype,
            "tableColumnId": 2000 + position,
            "width": 100,
            "format": {},
        }
        for position, column in enumerate(entry.columns, start=1)
    ]
    doc["grants"] = [{"inherited": False, "type": "viewer", "flags": ["public"]}]
    doc["metadata"] = {
        "custom_fields": {"Metadata": custom},
        "rdfSubject": "0",
        "rowIdentifier": "0",
        "availableDisplayTypes": ["table", "fatrow", "page"],
        "renderTypeConfig": {"visible": {"table": True}},
    }
    doc["owner"] = owner
    doc["query"] = {}
    doc["rights"] = ["read"]
    doc["tableAuthor"] = dict(owner)
    if entry.tags:
        doc["tags"] = list(entry.tags)
    doc["flags"] = ["default"] if entry.is_dataset else []
    return doc


def soda_value(value: object) -> object:
    """SODA 2.1 JSON: numbers as strings, dates as floating timestamps, booleans as booleans."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00.000"
    return value


def soda_row(row: dict) -> dict:
    """A row as SODA writes it: null fields are left out."""
    return {key: soda_value(value) for key, value in row.items() if value is not None}
