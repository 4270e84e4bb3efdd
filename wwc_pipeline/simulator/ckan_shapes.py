"""Generated entries as CKAN packages (shape of the recorded ckan-opendataphilly dump).

Frequency goes in `extras` under "Update Frequency", the department is the organization,
the category a group; CSV resources of datasets are datastore-active (rows via
`datastore_search`). Times are naive UTC isoformat with microseconds, as CKAN writes them.
"""

from __future__ import annotations

import uuid
from datetime import date
from functools import lru_cache

from wwc_pipeline.simulator import vocabulary as vocab
from wwc_pipeline.simulator.common import Site, iso_naive
from wwc_pipeline.simulator.generator import Entry, slugify

DATASTORE_TYPE = {"text": "text", "number": "numeric", "calendar_date": "timestamp", "checkbox": "bool"}
_NAMESPACE = uuid.UUID("6f1c7b52-8d3e-4a55-9c07-1d2b3e4f5a60")


@lru_cache(maxsize=4096)
def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def organization(department: str, created: int) -> dict:
    return {
        "approval_status": "approved",
        "created": iso_naive(created),
        "description": "",
        "id": stable_uuid("org", department),
        "image_url": "",
        "is_organization": True,
        "name": slugify(department),
        "state": "active",
        "title": department,
        "type": "organization",
    }


def resource_id(entry: Entry, position: int) -> str:
    return stable_uuid("resource", entry.uuid, str(position))


def package(entry: Entry, site: Site) -> dict | None:
    """A package_show / package_search result; charts, maps and stories have no CKAN form."""
    if not entry.is_dataset and entry.kind != "policy":
        return None
    if entry.licence:
        licence_id, licence_title, is_open = vocab.LICENCES[entry.licence]["ckan"]
        licence_title = licence_title.format(city=site.city)
    else:
        licence_id, licence_title, is_open = "notspecified", "License not specified", False
    extras = [{"key": "Department", "value": entry.department}]
    if entry.cadence:
        extras.append({"key": "Update Frequency", "value": vocab.CADENCE_TEXT["ckan"][entry.cadence]})
    resources = []
    for position, fmt in enumerate(entry.formats):
        text, media_type, title, extension = vocab.FORMATS[fmt]
        resources.append(
            {
                "cache_last_updated": None,
                "cache_url": None,
                "created": iso_naive(entry.created),
                "datastore_active": fmt == "csv" and entry.is_dataset,
                "description": "",
                "format": text,
                "hash": "",
                "id": resource_id(entry, position),
                "last_modified": iso_naive(entry.data_modified),
                "metadata_modified": iso_naive(entry.metadata_modified),
                "mimetype": media_type,
                "mimetype_inner": None,
                "name": f"{entry.title} ({title})",
                "package_id": entry.uuid,
                "position": position,
                "resource_type": None,
                "size": None,
                "state": "active",
                "url": site.file_url(entry, extension),
                "url_type": None,
            }
        )
    org = organization(entry.department, entry.created)
    return {
        "author": "",
        "author_email": None,
        "creator_user_id": stable_uuid("user", entry.department),
        "extras": extras,
        "groups": [
            {
                "description": "",
                "display_name": entry.category,
                "id": stable_uuid("group", entry.category),
                "image_display_url": "",
                "name": slugify(entry.category),
                "title": entry.category,
            }
        ],
        "id": entry.uuid,
        "isopen": is_open,
        "license_id": licence_id,
        "license_title": licence_title,
        "maintainer": entry.contact_name or "",
        "maintainer_email": entry.contact_email,
        "metadata_created": iso_naive(entry.created),
        "metadata_modified": iso_naive(entry.updated),
        "name": entry.slug,
        "notes": entry.description,
        "num_resources": len(resources),
        "num_tags": len(entry.tags),
        "organization": org,
        "owner_org": org["id"],
        "private": False,
        "relationships_as_object": [],
        "relationships_as_subject": [],
        "resources": resources,
        "state": "active",
        "tags": [
            {
                "display_name": tag,
                "id": stable_uuid("tag", tag),
                "name": tag,
                "state": "active",
                "vocabulary_id": None,
            }
            for tag in entry.tags
        ],
        "title": entry.title,
        "type": "dataset",
        "url": site.page_url(entry),
        "version": None,
    }


def datastore_value(value: object) -> object:
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00"
    return value
