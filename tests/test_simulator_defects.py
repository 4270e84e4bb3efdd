"""The simulator's planted row defects: seeded ground truth, visible in the raw rows, clean elsewhere.

Read straight from the generated rows (no check code involved), so that the content-check tests
compare against a ground truth that is itself verified.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from wwc_pipeline.simulator import GeneratedCatalog
from wwc_pipeline.simulator.defects import DEFECT_KINDS

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)
LATEST = AS_OF.date() + timedelta(days=31)


def is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, bool)


def shows(kind: str, rows: list[dict], fields: tuple[str, ...]) -> bool:
    """Whether the raw rows show a defect of this kind in these columns."""
    column = [row[fields[0]] for row in rows] if fields else []
    if kind == "nulls":
        return sum(value is None for value in column) > len(rows) / 2
    if kind == "wrong_type":
        return any(isinstance(v, str) and not is_number(v) for v in column)
    if kind == "coordinates":
        bound = {"latitude": 90, "longitude": 180}
        outside = any(abs(row[f]) > bound[f] for row in rows for f in fields)
        island = len(fields) == 2 and any(row[fields[0]] == row[fields[1]] == 0 for row in rows)
        return outside or island
    if kind == "negative_amounts":
        return any(v < 0 for v in column)
    if kind == "future_dates":
        return any(isinstance(v, date) and v > LATEST for v in column)
    if kind == "duplicate_rows":
        return any(rows[n] == rows[n - 1] for n in range(1, len(rows)))
    if kind == "case_variants":
        spellings = {}
        for value in column:
            spellings.setdefault(value.strip().casefold(), set()).add(value)
        return any(len(found) > 1 for found in spellings.values())
    raise AssertionError(kind)


@pytest.fixture(scope="module")
def catalog() -> GeneratedCatalog:
    return GeneratedCatalog(size=80, seed=3, as_of=AS_OF, share_dirty=0.4)


def test_dirty_datasets_are_an_exact_seeded_share_of_the_ordinary_ones(catalog):
    ordinary = [e for e in catalog.datasets if e.kind in ("generic", "key", "lookalike") and e.row_count]
    assert len(catalog.dirty) == round(0.4 * len(ordinary))
    assert all(e.kind in ("generic", "key", "lookalike") and e.is_dataset for e in catalog.dirty)
    assert not [e for e in catalog.dirty if e.kind not in ("generic", "key", "lookalike")]
    again = GeneratedCatalog(size=80, seed=3, as_of=AS_OF, share_dirty=0.4)
    assert [(e.key, e.planted_defects) for e in again.dirty] == [
        (e.key, e.planted_defects) for e in catalog.dirty
    ]
    assert {kind for e in catalog.dirty for kind in e.planted_defects} == set(DEFECT_KINDS)


def test_the_share_of_dirty_datasets_changes_no_catalog_metadata(catalog):
    clean = GeneratedCatalog(size=80, seed=3, as_of=AS_OF, share_dirty=0.0)
    assert clean.dirty == []
    for dirty_entry, clean_entry in zip(catalog.entries, clean.entries, strict=True):
        assert (dirty_entry.uid, dirty_entry.title, dirty_entry.columns, dirty_entry.row_seed) == (
            clean_entry.uid,
            clean_entry.title,
            clean_entry.columns,
            clean_entry.row_seed,
        )


def test_each_planted_kind_shows_in_the_first_rows_and_no_other_kind_does(catalog):
    for entry in catalog.dirty:
        rows = catalog.rows(entry, 0, 11)  # every kind recurs within 11 rows
        fields = {c.field_name: c for c in entry.columns}
        for kind, columns in entry.planted_defects.items():
            assert shows(kind, rows, columns), (entry.key, kind, columns)
            assert all(field in fields for field in columns)
        used = [field for columns in entry.planted_defects.values() for field in columns]
        assert len(used) == len(set(used))  # one column per defect: none hides another
        if "duplicate_rows" not in entry.planted_defects:
            assert not shows("duplicate_rows", catalog.rows(entry, 0, 200), ())


def test_clean_rows_are_complete_typed_in_range_and_consistent(catalog):
    clean = [e for e in catalog.datasets if not e.planted_defects and e.row_count]
    assert len(clean) > 40
    for entry in clean:
        rows = catalog.rows(entry, 0, 200)
        assert not shows("duplicate_rows", rows, ())
        for column in entry.columns:
            values = [row[column.field_name] for row in rows]
            if entry.kind == "inventory" and column.kind == "inv_frequency":
                values = [v for v in values if v is not None]  # datasets without a cadence list none
            assert None not in values, (entry.key, column.name)
            if column.datatype == "number":
                assert all(is_number(v) for v in values)
            if column.kind in ("amount", "count"):
                assert min(values) >= 0
            if column.kind == "latitude":
                assert all(41 < v < 43 for v in values)
            if column.kind == "longitude":
                assert all(-89 < v < -87 for v in values)
            if column.datatype == "calendar_date":
                assert all(isinstance(v, date) and v <= AS_OF.date() for v in values)
            if column.kind in ("status", "type", "vendor", "department", "measure"):
                assert not shows("case_variants", rows, (column.field_name,))


def test_share_dirty_is_validated():
    with pytest.raises(ValueError, match="share_dirty must be between 0 and 1"):
        GeneratedCatalog(size=5, share_dirty=1.5)
