"""Content addresses: the digests that let identical entry lists, check results and result sets
be written once and shared by every run that produces them again.

Each digest is the SHA-256 of canonical JSON (sorted keys, no spaces), so it depends on the
content only, never on surrogate keys of the run that first wrote it. Migration 0002 computes
the same digests for the rows it carries over (it keeps its own frozen copy of these formulas).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from wwc_pipeline.model import DatasetRecord

_SCALARS = (str, int, float, bool, type(None))


def canonical(value: Any) -> str:
    """JSON text that is equal for equal data (`value` must already be JSON-safe: convert.jsonable)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_result_digest(
    portal_id: int, dataset_version_id: int | None, check_id: str, status: str, value: Any, reason: str
) -> str:
    """A check result's address: what it judged (portal, dataset version) and what it said."""
    return sha256(canonical([portal_id, dataset_version_id, check_id, status, value, reason]))


def result_set_digest(member_digests: Iterable[str]) -> str:
    """A result set's address: its members' digests, sorted (a set has no order).

    Member digests identify the member rows one to one (they are unique), so this names the
    same set as a digest of the member ids would, and it is known before any id is looked up.
    """
    return sha256("\n".join(sorted(set(member_digests))))


def entry_list_digest(entries: Sequence[tuple[int, int, int, Sequence[str]]]) -> str:
    """An entry list's address: its (position, dataset id, dataset version id, flags) in order."""
    return sha256(
        canonical(
            [[position, dataset, version, list(flags)] for position, dataset, version, flags in entries]
        )
    )


def record_data(record: DatasetRecord) -> dict[str, Any]:
    """What `DatasetRecord.to_dict()` gives, built without `asdict`'s deep copies: this runs for
    every entry of every portal write (tests hold the two equal)."""
    data = {field.name: _plain(getattr(record, field.name)) for field in dataclasses.fields(record)}
    for key, value in data.items():
        if isinstance(value, datetime):
            data[key] = value.isoformat()
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, list | tuple):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return {_plain(key): _plain(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    return value


def record_digest(data: dict[str, Any]) -> str:
    """`DatasetRecord.content_hash()` of the record whose `record_data` this is."""
    return sha256(json.dumps(data, sort_keys=True, default=str))
