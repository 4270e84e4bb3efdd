"""Disaggregation (WWC DM8) from column names: demographic dimensions and small-area geography.

Only column names are read (Socrata column and field names, CKAN DataStore fields, OpenDataSoft
fields). A record whose platform gives no column list says nothing either way: None, never [].
"""

from __future__ import annotations

import re
from functools import lru_cache

from wwc_pipeline.keydata.matching import column_texts
from wwc_pipeline.keydata.rules import Dimension, KeyDatasetsConfig
from wwc_pipeline.model import DatasetRecord


@lru_cache(maxsize=512)
def _pattern(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def column_has(dimension: Dimension, column: str) -> bool:
    if any(_pattern(p).search(column) for p in dimension.exclude):
        return False
    return any(_pattern(p).search(column) for p in dimension.match)


_SEEN: dict[int, tuple[KeyDatasetsConfig, dict[str, tuple[str, ...]]]] = {}
_SEEN_LIMIT = 100_000  # column names remembered per config (catalogs repeat the same few)


def dimensions_of(column: str, config: KeyDatasetsConfig) -> tuple[str, ...]:
    """The ids of the dimensions one normalized column name shows, in the config's order.

    Remembered per config: a nation's catalogs repeat a few thousand column names, and trying
    every dimension's patterns on each was most of the disaggregation check's time."""
    kept = _SEEN.get(id(config))
    if kept is None or kept[0] is not config:
        if len(_SEEN) > 8:
            _SEEN.clear()
        kept = _SEEN[id(config)] = (config, {})
    known = kept[1]
    found = known.get(column)
    if found is None:
        found = tuple(d.id for d in config.disaggregation.dimensions if column_has(d, column))
        if len(known) >= _SEEN_LIMIT:
            known.clear()
        known[column] = found
    return found


def dimensions_found(record: DatasetRecord, config: KeyDatasetsConfig) -> dict[str, list[str]] | None:
    """dimension id -> the (normalized) column names showing it; None when columns are unknown."""
    if record.columns is None:
        return None
    found: dict[str, list[str]] = {}
    for column in column_texts(record):
        for dimension_id in dimensions_of(column, config):
            found.setdefault(dimension_id, []).append(column)
    return found


def is_tabular(record: DatasetRecord) -> bool:
    """A dataset whose platform lists at least one column: the ones DM8 can judge."""
    return record.is_dataset and bool(record.columns)
