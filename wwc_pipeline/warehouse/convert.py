"""Values on their way into the warehouse: UTC times, JSON-safe data, portal URLs as stored."""

from __future__ import annotations

import dataclasses
import math
import numbers
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any


def now() -> datetime:
    return datetime.now(UTC)


def utc(moment: datetime | None) -> datetime | None:
    """Timezone-aware UTC; a naive time is taken to be UTC already (the model's rule)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_AS_THEY_ARE = frozenset({str, bool, int, type(None)})  # exact types: a subclass (an enum) is not


def jsonable(value: Any) -> Any:
    """Plain JSON data: times as ISO text, NaN/inf as null (PostgreSQL rejects them), numpy and
    pandas values as their Python equivalents (`tolist()`), anything else as its text."""
    kind = type(value)  # the plain types first, by exact type: every check result's value comes here
    if kind in _AS_THEY_ARE:
        return value
    if kind is dict:
        return {key if type(key) is str else str(key): jsonable(item) for key, item in value.items()}
    if kind is list:
        return [jsonable(item) for item in value]
    if isinstance(value, Enum):
        return jsonable(value.value)
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((jsonable(item) for item in value), key=str)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if callable(getattr(value, "tolist", None)):
        return jsonable(value.tolist())
    return str(value)


def portal_key(portal_url: str) -> str:
    """The portal URL as stored: trailing slashes dropped, as config.PortalConfig does."""
    return portal_url.rstrip("/")
