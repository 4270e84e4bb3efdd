"""Format checks (METRICS.md "Formats"): can a machine read the data, in an open format?

Portals write formats as names, file extensions or MIME types; each distribution is reduced
to a set of format tokens, and the checks ask whether any token is machine-readable / open.
"""

from __future__ import annotations

import re
from datetime import datetime

from wwc_pipeline.checks.metadata import result

from wwc_pipeline.model import DatasetRecord, Distribution
from wwc_pipeline.registry import dataset_check
from wwc_pipeline.results import CheckResult
from wwc_pipeline.text import clean_text

_TOKEN_TEXTS = {
    "csv": "csv, text/csv",
    "tsv": "tsv, text/tab-separated-values",
    "json": "json, application/json",
    "geojson": "geojson, application/geo+json, application/vnd.geo+json",
    "xml": "xml, application/xml, text/xml",
    "rdf": "rdf, application/rdf+xml",
    "json-ld": "json-ld, jsonld, application/ld+json",
    "xls": "xls, application/vnd.ms-excel",
    "xlsx": "xlsx, application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "ods, application/vnd.oasis.opendocument.spreadsheet",
    "kml": "kml, application/vnd.google-earth.kml+xml",
    "kmz": "kmz, application/vnd.google-earth.kmz",
    "shapefile": "shp, shapefile, esri shapefile, zipped shapefile",
    "geopackage": "gpkg, geopackage, application/geopackage+sqlite3",
    "parquet": "parquet, application/vnd.apache.parquet",
    "api": "api",
    "soda": "soda, socrata",
    "arcgis geoservices": "esri rest, esri rest api, arcgis geoservices rest api, arcgis geoservice, "
    "geoservice, arcgis rest services, arcgis server",
    "odata": "odata",
    "wms": "wms, ogc wms, application/vnd.ogc.wms_xml",
    "wfs": "wfs, ogc wfs, application/vnd.ogc.wfs_xml",
    "datastore": "datastore",
}
FORMAT_TOKENS: dict[str, str] = {
    spelling.strip(): token for token, spellings in _TOKEN_TEXTS.items() for spelling in spellings.split(",")
}
MACHINE_READABLE = frozenset(_TOKEN_TEXTS)
OPEN_TOKENS = frozenset(
    [
        "csv",
        "tsv",
        "json",
        "geojson",
        "xml",
        "rdf",
        "json-ld",
        "ods",
        "kml",
        "geopackage",
        "parquet",
        "soda",
        "odata",
        "wfs",
        "datastore",
    ]
)
_PIECE_SEPARATOR = re.compile(r"[^\w+-]|_")


def media_type_token(media_type: str) -> str | None:
    """The token of a media type, ignoring parameters after ";"."""
    return FORMAT_TOKENS.get(media_type.lower().split(";")[0].strip())


def format_text_tokens(format_text: str) -> set[str]:
    """Tokens of a format text: a media type, a known name, or known pieces (`zip:csv`)."""
    lowered = format_text.lower().strip()
    if lowered.startswith("."):
        lowered = lowered[1:]
    if "/" in lowered:
        token = media_type_token(lowered)
        return {token} if token else set()
    if lowered in FORMAT_TOKENS:
        return {FORMAT_TOKENS[lowered]}
    return {FORMAT_TOKENS[piece] for piece in _PIECE_SEPARATOR.split(lowered) if piece in FORMAT_TOKENS}


def format_tokens(distribution: Distribution) -> set[str]:
    """Every format token one distribution gives (METRICS.md "Formats", steps 1 to 3)."""
    format_text = clean_text(distribution.format or "")
    tokens = format_text_tokens(format_text) if format_text else set()
    if distribution.media_type:
        token = media_type_token(distribution.media_type)
        if token:
            tokens.add(token)
    title = distribution.title or ""
    if "shapefile" in format_text.lower() or "shapefile" in title.lower():
        tokens.add("shapefile")
    return tokens


def record_tokens(record: DatasetRecord) -> set[str]:
    tokens: set[str] = set()
    for distribution in record.distributions:
        tokens |= format_tokens(distribution)
    return tokens


@dataset_check("machine_readable")
def machine_readable(record: DatasetRecord, as_of: datetime) -> CheckResult:
    found = sorted(record_tokens(record) & MACHINE_READABLE)
    if found:
        return result("machine_readable", record, True, found, f"Machine-readable: {', '.join(found)}.")
    return result("machine_readable", record, False, [], "No distribution in a machine-readable format.")


@dataset_check("open_format")
def open_format(record: DatasetRecord, as_of: datetime) -> CheckResult:
    found = sorted(record_tokens(record) & OPEN_TOKENS)
    if found:
        return result("open_format", record, True, found, f"Open format: {', '.join(found)}.")
    return result("open_format", record, False, [], "No distribution in an open format.")
