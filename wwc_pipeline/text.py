"""The value-reading rules of METRICS.md ("raw string", "text", "present", times).

Every connector reads raw JSON through these helpers so that the same value means the same
thing whichever platform serves it.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from typing import Any

_TAG = re.compile(r"<[^>]*>")
_OBJECT_NAME_KEYS = ("name", "title", "fn", "source")


def raw_string(value: Any) -> str:
    """The raw string of a JSON value (METRICS.md "Where each field comes from")."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, list):
        return " ".join(raw_string(item) for item in value)
    if isinstance(value, dict):
        for key in _OBJECT_NAME_KEYS:
            candidate = raw_string(value.get(key))
            if clean_text(candidate):
                return candidate
        return ""
    return str(value)


def clean_text(raw: str) -> str:
    """Tags to spaces, entities unescaped, white space collapsed and trimmed."""
    if not raw:
        return ""
    if "<" not in raw and "&" not in raw:  # no tag, no entity: only the white space to collapse
        return " ".join(raw.split())
    return " ".join(html.unescape(_TAG.sub(" ", raw)).split())


def text(value: Any) -> str:
    """The text of a JSON value: its raw string, cleaned once."""
    return clean_text(raw_string(value))


def text_or_none(value: Any) -> str | None:
    """The text of a value, or None when it is not present."""
    cleaned = text(value)
    return cleaned or None


def present(value: Any) -> bool:
    return bool(text(value))


def first_present(*values: Any) -> str | None:
    """ "X, else Y": the text of the first value that is present."""
    for value in values:
        cleaned = text(value)
        if cleaned:
            return cleaned
    return None


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 date or date-time string, or epoch seconds as a number; else None.

    A date alone is midnight UTC, no offset means UTC. Years alone, year-months, intervals,
    repeating rules and prose are not times (METRICS.md "Times").
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def first_time(*values: Any) -> datetime | None:
    """ "X, else Y" for times: the first value that reads as a time."""
    for value in values:
        parsed = parse_time(value)
        if parsed is not None:
            return parsed
    return None
