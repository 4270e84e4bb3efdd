"""What a connector is: the contract every module in `connectors/` fulfils.

A connector knows one platform's API: how to recognise a recorded catalog document, how to
turn one into DatasetRecords (the metrics of METRICS.md are defined on those), and how to page
through a live portal's catalog with the shared HTTP client and paginators.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from wwc_pipeline.model import Column, DatasetRecord


class RowSample(list):
    """What `sample_rows` may return: the rows (a plain list of dicts) plus the column types the
    rows endpoint declared (CKAN DataStore `fields`), for platforms whose catalog lists none."""

    def __init__(self, rows: Iterable[dict] = (), columns: list[Column] | None = None) -> None:
        super().__init__(rows)
        self.columns = columns


@dataclass
class HarvestPage:
    """One page of a live harvest: its records (all assets) and the digest of its raw body."""

    records: list[DatasetRecord]
    raw_digest: str
    url: str = ""
    total_hint: int | None = None  # the server's own count (resultSetSize, count, total_count)
    warnings: list[str] = field(default_factory=list)


class Connector(Protocol):
    platform: str

    def looks_like(self, document: Any) -> bool:
        """True when a parsed JSON document is this platform's catalog shape (for `auto`)."""

    def records_from_document(self, document: Any, portal: str | None = None) -> list[DatasetRecord]:
        """Every asset in a recorded catalog document, in catalog order, normalized."""

    def harvest(self, portal: Any, client: Any) -> Iterator[HarvestPage]:
        """Page through a live portal's catalog (`portal`: config.PortalConfig, `client`: http.HttpClient)."""

    def sample_rows(self, portal: Any, client: Any, record: DatasetRecord, limit: int) -> list[dict] | None:
        """Up to `limit` rows of one dataset for content checks; None when the platform cannot."""
