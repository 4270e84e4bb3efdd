"""DCAT-US 1.1 `data.json` (also at ArcGIS Hub's `/api/feed/dcat-us/1.1.json`): one document.

Unpaged by default, as the spec and Hub serve it: a `page` parameter is ignored and the whole
document comes back (a harvester that pages it loops). With the catalog option
`dcat_page_size`, the ckanext-dcat style: `?page=N` (1-based; no page = page 1) returns that
slice of `dataset`, and an empty `dataset` past the end. A recorded catalog is served byte for
byte when unpaged (a POD 1.0 top-level list stays a list).
"""

from __future__ import annotations

from typing import Any

from wwc_pipeline.simulator import vocabulary as vocab
from wwc_pipeline.simulator.catalog import RecordedCatalog
from wwc_pipeline.simulator.common import (
    DocSet,
    Request,
    Response,
    Site,
    dumps,
    iso_z,
    json_response,
    parse_int,
)
from wwc_pipeline.simulator.common import raw_response as raw

PATHS = ("/data.json", "/api/feed/dcat-us/1.1.json")
SCHEMA = "https://project-open-data.cio.gov/v1.1/schema"


def entry_document(entry: Any, site: Site) -> dict | None:
    """One `dataset[]` item; charts, maps and stories are not in a data.json."""
    if not entry.is_dataset and entry.kind != "policy":
        return None
    doc: dict = {
        "@type": "dcat:Dataset",
        "identifier": site.page_url(entry),
        "landingPage": site.page_url(entry),
        "title": entry.title,
        "description": entry.description,
        "keyword": list(entry.tags),
        "issued": iso_z(entry.created),
        "modified": iso_z(entry.data_modified),
        "publisher": {"@type": "org:Organization", "name": entry.department},
    }
    if entry.contact_email:
        doc["contactPoint"] = {
            "@type": "vcard:Contact",
            "fn": entry.contact_name,
            "hasEmail": f"mailto:{entry.contact_email}",
        }
    doc["accessLevel"] = "public"
    licence = vocab.LICENCES[entry.licence]["dcat"] if entry.licence else ""
    doc["license"] = str(licence).format(base=site.base_url, city=site.city)
    if entry.cadence:
        doc["accrualPeriodicity"] = vocab.CADENCE_TEXT["dcat"][entry.cadence]
    distributions = []
    for fmt in entry.formats:
        text, media_type, title, extension = vocab.FORMATS[fmt]
        url_key = "accessURL" if fmt in ("esri", "html") else "downloadURL"
        distributions.append(
            {
                "@type": "dcat:Distribution",
                "title": f"{entry.title} ({title})" if entry.kind == "policy" else title,
                "format": text,
                "mediaType": media_type,
                url_key: site.file_url(entry, extension),
            }
        )
    doc["distribution"] = distributions
    doc["theme"] = [entry.category]
    return doc


class DcatApp:
    def __init__(self, portal: Any) -> None:
        self.portal = portal
        catalog = portal.catalog
        self.page_size = catalog.dcat_page_size
        self.recorded = isinstance(catalog, RecordedCatalog)
        if self.recorded:
            document = catalog.documents[0]
            if len(catalog.documents) != 1:
                raise ValueError(f"{catalog!r}: a DCAT catalog is one data.json file")
            if isinstance(document, list):
                if document and not any(isinstance(i, dict) and "identifier" in i for i in document[:20]):
                    raise ValueError(
                        f"{catalog!r}: a list, but its entries have no `identifier` (not POD 1.0)"
                    )
                items, self.header = document, None
            elif isinstance(document, dict) and isinstance(document.get("dataset"), list):
                items, self.header = (
                    document["dataset"],
                    {k: v for k, v in document.items() if k != "dataset"},
                )
            else:
                raise ValueError(f"{catalog!r}: not a DCAT-US data.json (no `dataset` list, not a list)")
            self.raw = catalog.raw[0]
            self.entries = DocSet(
                catalog, None, lambda d: d.get("identifier") if isinstance(d, dict) else "", items
            )
        else:
            site = portal.site
            self.header = {
                "@context": "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld",
                "@id": f"{site.base_url}/data.json",
                "@type": "dcat:Catalog",
                "conformsTo": SCHEMA,
                "describedBy": "https://project-open-data.cio.gov/v1.1/schema/catalog.json",
            }
            self.entries = DocSet(catalog, lambda e: entry_document(e, site), lambda d: d["identifier"])

    def handle(self, request: Request) -> Response | None:
        if request.path not in PATHS:
            return None
        docs = self.entries.current()
        if self.page_size:
            try:
                page = parse_int(request.arg("page"), 1)
            except ValueError:
                return json_response({"error": "page must be an integer"}, 400)
            if page < 1:
                return json_response({"error": "page must be 1 or more"}, 400)
            docs = docs[(page - 1) * self.page_size : page * self.page_size]
        elif self.recorded:
            return raw(self.raw)
        items = b"[" + b",".join(doc.raw for doc in docs) + b"]"
        if self.header is None:
            return raw(items)
        head = dumps(self.header)[:-1] + b"," if self.header else b"{"
        return raw(head + b'"dataset":' + items + b"}")
