"""Reading sampled values as the types a schema declares: numbers, dates, points, categories.

Plain functions on one value (or one column's values), used to derive the columns that the
expectations of expectations.py run on. Platforms write values differently (SODA numbers as
text, DataStore numbers as JSON numbers, points as GeoJSON, Socrata locations or ODS
geo_point_2d): each reader accepts them all and gives None for what it cannot read.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any


def cell(value: Any) -> Any:
    """Blank strings as missing; nested values kept (they are read as points or as JSON text)."""
    return None if isinstance(value, str) and not value.strip() else value


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def as_number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip()) if not isinstance(value, (int, float)) else float(value)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def as_date(value: Any) -> datetime | None:
    """A date or time as the platforms write them (ISO 8601 first: fast), naive ones as UTC."""
    text = str(value).strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        from dateutil import parser

        try:
            moment = parser.parse(text, default=datetime(2000, 1, 1))  # never today's date
        except (ValueError, OverflowError, TypeError):
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def coordinates(value: Any) -> tuple[float, float] | None:
    """(lat, lon) of a GeoJSON point, a Socrata location, an ODS geo_point_2d or "POINT (lon lat)"."""
    if isinstance(value, str):
        text = value.strip()
        match = re.fullmatch(r"POINT\s*\(\s*(\S+)\s+(\S+)\s*\)", text, re.IGNORECASE)
        if match:
            lon, lat = as_number(match[1]), as_number(match[2])
            return (lat, lon) if lat is not None and lon is not None else None
        if not text.startswith("{"):
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("coordinates"), list) and len(value["coordinates"]) >= 2:
        lon, lat = as_number(value["coordinates"][0]), as_number(value["coordinates"][1])
    else:
        lat = as_number(value.get("latitude", value.get("lat")))
        lon = as_number(value.get("longitude", value.get("lon")))
    return (lat, lon) if lat is not None and lon is not None else None


def point_text(value: Any) -> str | None:
    """A point as "POINT (lon lat)" (WKT) when it has both coordinates, else its text."""
    found = coordinates(value)
    return f"POINT ({found[1]:g} {found[0]:g})" if found else as_text(value)


def case_variants(values: list[Any], max_distinct: int) -> list[str | None] | None:
    """Per row, the spelling when a more common one differs from it by case or spaces only;
    None when the column is not a low-cardinality text column."""
    texts = [v for v in values if isinstance(v, str)]
    if not texts or len(texts) < sum(v is not None for v in values):
        return None
    spellings: dict[str, dict[str, int]] = {}
    for text in texts:
        counts = spellings.setdefault(" ".join(text.split()).casefold(), {})
        counts[text] = counts.get(text, 0) + 1
    if len(spellings) > max_distinct or len(texts) < 2 * len(spellings):
        return None
    usual = {key: max(c, key=lambda s, c=c: (c[s], s == s.strip(), s)) for key, c in spellings.items()}

    def variant(value: Any) -> str | None:
        if not isinstance(value, str):
            return None
        common = usual[" ".join(value.split()).casefold()]
        return None if value == common else f"{value!r} vs {common!r}"

    return [variant(v) for v in values]
