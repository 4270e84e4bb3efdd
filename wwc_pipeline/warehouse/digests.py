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
from functools import cache
from json.encoder import encode_basestring
from typing import Any

from wwc_pipeline.model import DatasetRecord

_SCALARS = (str, int, float, bool, type(None))
# One encoder each, built once: `json.dumps` with options builds a new encoder on every call,
# a third of its cost on the small values a portal write encodes by the hundred thousand.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_RECORD = json.JSONEncoder(sort_keys=True, default=str)
_STORED = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_FLAT = frozenset({str, int, float, bool, type(None)})


class JSONText(str):
    """JSON already encoded: a JSON column stores it as it is (`stored_json`, the engines'
    serializer; pg_copy.py) instead of encoding the value again."""


def stored_json(value: Any) -> str:
    """The warehouse engines' JSON serializer: `json.dumps`, except for `JSONText`."""
    return value if type(value) is JSONText else json.dumps(value)


class _NotPlain(Exception):
    pass


def _refuse(value: Any) -> Any:
    raise _NotPlain


_PLAIN_RECORD = json.JSONEncoder(sort_keys=True, default=_refuse, allow_nan=False)


def canonical(value: Any) -> str:
    """JSON text that is equal for equal data (`value` must already be JSON-safe: convert.jsonable)."""
    return _CANONICAL.encode(value)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_result_digest(
    portal_id: int, dataset_version_id: int | None, check_id: str, status: str, value: Any, reason: str
) -> str:
    """A check result's address: what it judged (portal, dataset version) and what it said."""
    return sha256(canonical([portal_id, dataset_version_id, check_id, status, value, reason]))


def check_result_digest_and_value(
    portal_id: int, dataset_version_id: int | None, check_id: str, status: str, value: Any, reason: str
) -> tuple[str, JSONText]:
    """`check_result_digest` and the value's JSON to store, the value encoded once where it can
    be: the digest's text is put together around the value's canonical text exactly as
    `canonical` writes the list (tests hold the two equal). A value holding a dict is stored as
    it was built, not with sorted keys: its readers see the keys in the check's order."""
    value_text, stored = encoded_value(value)
    return check_result_digest_of_text(
        portal_id, dataset_version_id, check_id, status, value_text, reason
    ), stored


def encoded_value(value: Any) -> tuple[str, JSONText]:
    """A JSON-safe value's canonical text (for digests) and its text to store."""
    value_text = canonical(value)
    return value_text, JSONText(value_text if _no_dict(value) else _STORED.encode(value))


def check_result_digest_of_text(
    portal_id: int, dataset_version_id: int | None, check_id: str, status: str, value_text: str, reason: str
) -> str:
    """`check_result_digest` from the value's canonical text (`encoded_value`)."""
    version = "null" if dataset_version_id is None else str(int(dataset_version_id))
    text = (
        f"[{int(portal_id)},{version},{encode_basestring(check_id)},{encode_basestring(status)},"
        f"{value_text},{encode_basestring(reason)}]"
    )
    return sha256(text)


def _no_dict(value: Any) -> bool:
    if type(value) is list:
        return all(type(item) in _FLAT for item in value)
    return type(value) in _FLAT


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


_HARVEST_MARKS = frozenset({"flags"})


def record_data(record: DatasetRecord) -> dict[str, Any]:
    """What `DatasetRecord.to_dict()` gives without `flags` (they describe the harvest and are kept
    on the snapshot entry), built without `asdict`'s deep copies: this runs for every entry of
    every portal write (tests hold the two equal)."""
    names = _field_names(type(record))
    data = {name: _plain(getattr(record, name)) for name in names if name not in _HARVEST_MARKS}
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
        return {name: _plain(getattr(value, name)) for name in _field_names(type(value))}
    return value


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(kind))


def record_digest(data: dict[str, Any]) -> str:
    """`DatasetRecord.content_hash()` of the record whose `record_data` this is."""
    return sha256(_RECORD.encode(data))


def record_digest_and_json(data: dict[str, Any]) -> tuple[str, JSONText | None]:
    """`record_digest` and, when the data is plain JSON (no NaN, nothing `str()` stands in for),
    the same text to store: one encoding serves both. None: store `convert.jsonable(data)`."""
    try:
        text = _PLAIN_RECORD.encode(data)
    except (_NotPlain, ValueError):
        return record_digest(data), None
    return sha256(text), JSONText(text)
