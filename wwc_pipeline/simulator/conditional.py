"""Conditional requests as a portal might honour them: validators out, 304 back.

A catalog page's validators come from the catalog's version, not from its bytes: the simulator
renders a catalog deterministically, so the same version and the same request give the same
body, and a 304 can be answered without generating or rendering anything (as a real server
answers from its cache). `If-None-Match` wins over `If-Modified-Since` (RFC 9110 13.2.2).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from wwc_pipeline.simulator.common import http_date

CATALOG_PATHS: dict[str, re.Pattern[str]] = {
    "socrata": re.compile(r"/api/catalog/v1/?|/api/views(?:\.json)?"),
    "ckan": re.compile(
        r"/api/(?:3/)?action/(?:package_search|package_list|current_package_list_with_resources)/?"
    ),
    "dcat": re.compile(r"/data\.json|/api/feed/dcat-us/1\.1\.json"),
    "opendatasoft": re.compile(r"/api/explore/v2\.1/catalog/(?:datasets|exports/[a-z]+)/?"),
}


def is_catalog_request(platform: str, method: str, path: str) -> bool:
    """Only GET/HEAD of a catalog listing carries validators (not rows, files or POSTs)."""
    pattern = CATALOG_PATHS.get(platform)
    return method in ("GET", "HEAD") and pattern is not None and pattern.fullmatch(path) is not None


def entity_tag(identity: str, version: int, path: str, query: Mapping[str, list[str]]) -> str:
    """A strong ETag for one page of one catalog version."""
    canonical = "&".join(f"{key}={value}" for key in sorted(query) for value in query[key])
    digest = hashlib.sha1(f"{identity}|{version}|{path}?{canonical}".encode()).hexdigest()[:24]
    return f'"{digest}"'


def validators(mode: str, etag: str, last_modified: int) -> dict[str, str]:
    """The headers a portal in `mode` (both | etag | last-modified | none) sends with a page."""
    headers: dict[str, str] = {}
    if mode in ("both", "etag"):
        headers["ETag"] = etag
    if mode in ("both", "last-modified"):
        headers["Last-Modified"] = http_date(last_modified)
    return headers


def not_modified(request_headers: Mapping[str, str], sent: Mapping[str, str], last_modified: int) -> bool:
    """True when the request's preconditions match what the page would carry now."""
    if_none_match = request_headers.get("If-None-Match")
    if if_none_match is not None:
        etag = sent.get("ETag")
        if etag is None:
            return False
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if_modified_since = request_headers.get("If-Modified-Since")
    if if_modified_since is None or "Last-Modified" not in sent:
        return False
    try:
        since: datetime = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an invalid date is ignored (RFC 9110 13.1.3)
    if since.tzinfo is None:  # "-0000": UTC as well
        since = since.replace(tzinfo=UTC)
    return since.timestamp() >= last_modified
