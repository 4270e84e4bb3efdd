"""Typed check results: a status, a measured value and a reason a reviewer can read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from wwc_pipeline.quick_init import quick_init


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NA = "na"


@quick_init
@dataclass(frozen=True, slots=True)
class CheckResult:
    check_id: str
    status: Status
    value: Any = None
    reason: str = ""
    dataset_id: str | None = None  # None for portal-level results
    # Index of the judged entry in the snapshot's record list: ids repeat in real catalogs, a
    # position does not. None: the first entry with `dataset_id` (or the portal, without one).
    position: int | None = None

    @property
    def as_bool(self) -> bool | None:
        """True / False / None (n/a), the form of the --details lines."""
        if self.status is Status.NA:
            return None
        return self.status is Status.PASS


@dataclass
class PortalContext:
    """What a portal-level check may read besides the records: the run and the live portal.

    `client` (http.HttpClient) and `connector` are None when evaluating a recorded file offline;
    checks that need the network then return n/a.
    """

    platform: str
    portal: str | None
    as_of: Any  # datetime, timezone-aware UTC
    departments: list[str] | None = None
    client: Any = None
    connector: Any = None
    portal_config: Any = None  # config.PortalConfig
    previous_columns: Mapping[str, list[str]] | None = None  # dataset_id -> column names, last run
    history: Any = None  # history.observe.Observation: this run against the portal's earlier runs
    # (rules, as_of) -> checks.row_validation.RowValidation: where content.quality validates its
    # samples; None: in the calling thread (the nightly's is a worker process, quality_pool.py)
    row_validator: Any = None
