"""The catalog model: the one shape every connector produces (DESIGN.md "The catalog model").

Unknown stays None, never a guessed default. Times are timezone-aware UTC.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from wwc_pipeline.quick_init import quick_init

UNDECODABLE = "undecodable_bytes"  # a flag: the entry held bytes that were not valid text (replaced)


@quick_init
@dataclass(frozen=True, slots=True)
class Distribution:
    """One way to get the data: a download, an API, a page."""

    format: str | None = None  # the format text as the portal writes it
    media_type: str | None = None
    title: str | None = None
    url: str | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class Column:
    name: str
    description: str | None = None  # its text, None when not present
    datatype: str | None = None
    field_name: str | None = None  # the API name rows use (Socrata `fieldName`), when it differs


@dataclass(slots=True)
class DatasetRecord:
    """One catalog entry, normalized. `is_dataset` says whether it counts as a dataset."""

    platform: str
    portal: str | None
    dataset_id: str
    asset_type: str | None = None
    is_dataset: bool = True
    title: str | None = None
    description: str | None = None
    keywords: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    publisher: str | None = None
    contact: str | None = None
    license_fields: list[str] = field(default_factory=list)  # raw strings, HTML kept
    landing_page: str | None = None
    created_at: datetime | None = None
    metadata_modified_at: datetime | None = None
    data_modified_at: datetime | None = None  # METRICS.md "last update"
    declared_frequency: str | None = None  # the frequency text as declared
    distributions: list[Distribution] = field(default_factory=list)
    columns: list[Column] | None = None  # None: the platform gives no column list
    row_count: int | None = None
    views: int | None = None
    downloads: int | None = None
    flags: list[str] = field(default_factory=list)  # what the harvest noticed about this entry

    @property
    def license(self) -> str | None:
        return " | ".join(self.license_fields) or None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (times as ISO strings)."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        return data

    def content_hash(self) -> str:
        """Digest of the normalized content: a new dataset version only when it changes.

        `flags` stay out: they describe the harvest, not the entry, and keeping them out leaves
        the hashes of records stored before flags existed unchanged."""
        content = {key: value for key, value in self.to_dict().items() if key != "flags"}
        payload = json.dumps(content, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class CatalogSnapshot:
    """What one harvest of one portal produced."""

    platform: str
    portal: str
    records: list[DatasetRecord]
    assets: int
    pages: int = 0
    page_digests: list[str] = field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    warnings: list[str] = field(default_factory=list)
    server_total: int | None = None  # the portal's own count of its catalog, when it gives one
    # how to ask for the same pages again next run (http_conditional): None when it cannot be done
    replay: dict[str, Any] | None = None
    reused_from: int | None = None  # the warehouse snapshot whose records these are (every page 304)

    @property
    def datasets(self) -> list[DatasetRecord]:
        return [record for record in self.records if record.is_dataset]

    @property
    def status(self) -> str:
        """`complete_with_warnings` when the harvest noticed anything a reviewer must see."""
        return "complete_with_warnings" if self.warnings else "complete"
