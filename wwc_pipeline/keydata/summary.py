"""A city's key datasets across its portals, from the portal checks' plain result values.

Scoring (the `key_datasets` criterion kind) and the reports read the same summary, so a type is
"found" or "open" in the same way everywhere. Nothing here reads config or the network.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

TYPES_CHECK = "key_datasets.types"
DISAGGREGATED_CHECK = "key_datasets.disaggregated"
OPEN_ANSWERS = ("online", "machine_readable", "bulk", "open_license")  # the default "published and open"


def yes_count(match: Mapping) -> int:
    return sum(1 for answer in (match.get("answers") or {}).values() if answer is True)


def match_order(match: Mapping) -> tuple:
    """Best first: the most telling rule (a title match), then the most openness answers met."""
    return (
        match.get("rank", 9),
        -yes_count(match),
        str(match.get("title") or ""),
        str(match.get("dataset_id")),
    )


def is_open(match: Mapping, required: Iterable[str] = OPEN_ANSWERS) -> bool:
    answers = match.get("answers") or {}
    return all(answers.get(name) is True for name in required)


def city_key_datasets(portal_values: Iterable[tuple[str, Mapping]]) -> list[dict[str, Any]]:
    """One row per key type (config order of the first portal): the best match across portals.

    `portal_values`: (portal, value of the key_datasets.types result) for each harvested portal.
    A row: id, name, definition, sets, found, best (the best match, with its portal), matches
    (every portal's kept matches, best first), count (matching records, variants counted once).
    """
    rows: dict[str, dict[str, Any]] = {}
    for portal, value in portal_values:
        for entry in (value or {}).get("types") or []:
            row = rows.setdefault(
                entry["id"],
                {
                    "id": entry["id"],
                    "name": entry.get("name") or entry["id"],
                    "definition": entry.get("definition") or "",
                    "sets": list(entry.get("sets") or []),
                    "count": 0,
                    "matches": [],
                },
            )
            row["count"] += int(entry.get("count") or 0)
            row["matches"].extend({**match, "portal": portal} for match in entry.get("matches") or [])
    for row in rows.values():
        row["matches"].sort(key=match_order)
        row["found"] = bool(row["matches"])
        row["best"] = row["matches"][0] if row["matches"] else None
    return list(rows.values())


def in_set(rows: list[dict], key_set: str | None) -> list[dict]:
    """The rows of one named set of types (all rows when `key_set` is None)."""
    return [row for row in rows if key_set is None or key_set in row["sets"]]
