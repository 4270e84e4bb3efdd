"""Planted row defects: the ground truth that content checks are tested against.

A share of the generic datasets is "dirty": each gets one to three defect kinds, each in its own
column (so that one defect cannot hide or mimic another), recorded on `Entry.planted_defects`
as {kind: field names}. Every other dataset's rows are clean: no nulls, values of the declared
type, in range, no duplicates, one spelling per category. Defects recur at a fixed row period
(at most every 11th row), so any sample of the first 11 rows or more shows every planted kind.
The choice is drawn from its own seeded generator: the catalog's entries do not change with it.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from wwc_pipeline.simulator import vocabulary as vocab
from wwc_pipeline.simulator.generator import Entry, FakeColumn

WRONG_TYPE, NULLS, COORDINATES = "wrong_type", "nulls", "coordinates"
NEGATIVE_AMOUNTS, FUTURE_DATES, DUPLICATE_ROWS, CASE_VARIANTS = (
    "negative_amounts",
    "future_dates",
    "duplicate_rows",
    "case_variants",
)
DEFECT_KINDS = (WRONG_TYPE, NULLS, COORDINATES, NEGATIVE_AMOUNTS, FUTURE_DATES, DUPLICATE_ROWS, CASE_VARIANTS)
CATEGORY_VALUES = {"status": vocab.STATUSES, "type": vocab.TYPES}  # low-cardinality text kinds
BAD_NUMBERS = ("n/a", "12,5", "unknown", "1.234.5")
BAD_DATES = ("not recorded", "31/02/2024", "TBD")


def _columns_for(kind: str, columns: list[FakeColumn]) -> list[tuple[str, ...]]:
    """The column choices (field names) a kind can be planted in, in column order."""
    if kind == WRONG_TYPE:
        numbers = [c for c in columns if c.datatype == "number" and c.kind != "row_id"]
        dates = [c for c in columns if c.datatype == "calendar_date"]
        return [(c.field_name,) for c in numbers or dates]
    if kind == NULLS:
        return [(c.field_name,) for c in columns if c.kind != "row_id"]
    if kind == COORDINATES:
        found = tuple(c.field_name for c in columns if c.kind in ("latitude", "longitude"))
        return [found] if found else []
    if kind == NEGATIVE_AMOUNTS:
        return [(c.field_name,) for c in columns if c.kind in ("amount", "count")]
    if kind == FUTURE_DATES:
        return [(c.field_name,) for c in columns if c.kind == "date"]
    if kind == CASE_VARIANTS:
        return [(c.field_name,) for c in columns if c.kind in CATEGORY_VALUES]
    return [()]  # duplicate rows: whole rows


PLANTABLE_KINDS = frozenset({"generic", "key", "lookalike"})


def plant_defects(entries: list[Entry], share_dirty: float, seed: int) -> list[Entry]:
    """Mark `round(share_dirty * ordinary datasets with rows)` datasets dirty; return them."""
    rng = random.Random(f"wwc-defects:{seed}")
    # ordinary data: generic datasets, key datasets and their look-alikes (not inventory, policy...)
    candidates = [e for e in entries if e.is_dataset and e.kind in PLANTABLE_KINDS and e.row_count > 0]
    dirty = rng.sample(candidates, round(share_dirty * len(candidates)))
    for entry in dirty:
        kinds = list(DEFECT_KINDS)
        rng.shuffle(kinds)
        wanted = rng.choice((1, 2, 3))
        used: set[str] = set()
        planted: dict[str, tuple[str, ...]] = {}
        for kind in kinds:
            if len(planted) == wanted:
                break
            free = [choice for choice in _columns_for(kind, entry.columns) if not used & set(choice)]
            if free:
                planted[kind] = rng.choice(free)
                used.update(planted[kind])
        if not planted:  # every dataset can carry duplicate rows
            planted[DUPLICATE_ROWS] = ()
        entry.planted_defects = dict(sorted(planted.items()))
    return dirty


def duplicated_source(entry: Entry, number: int) -> int:
    """The row number whose values row `number` repeats (itself when it is not a duplicate)."""
    return number - 1 if DUPLICATE_ROWS in entry.planted_defects and number % 10 == 9 else number


def apply_defects(entry: Entry, number: int, row: dict, as_of: int) -> dict:
    """Row `number` with the entry's planted defects applied (the row is changed in place)."""
    kinds = {c.field_name: c.kind for c in entry.columns}
    for kind, fields in entry.planted_defects.items():
        if kind == NULLS and number % 5:
            row[fields[0]] = None
        elif kind == WRONG_TYPE and number % 7 == 3:
            bad = BAD_DATES if kinds[fields[0]] == "date" else BAD_NUMBERS
            row[fields[0]] = bad[(number // 7) % len(bad)]
        elif kind == COORDINATES and number % 9 == 4:
            if len(fields) == 2 and (number // 9) % 2 == 0:
                row.update({field: 0.0 for field in fields})  # "null island"
            else:
                row.update({field: round(row[field] * 10, 6) for field in fields})  # lost decimal point
        elif kind == NEGATIVE_AMOUNTS and number % 11 == 5:
            row[fields[0]] = -(abs(row[fields[0]]) + 1)
        elif kind == FUTURE_DATES and number % 8 == 6:
            day = datetime.fromtimestamp(as_of, UTC).date()
            row[fields[0]] = day + timedelta(days=400 + (number * 37) % 900)
        elif kind == CASE_VARIANTS and number % 6 in (1, 2):
            usual = CATEGORY_VALUES[kinds[fields[0]]][0]
            variants = (usual.upper(), usual.lower(), f" {usual}", f"{usual} ")
            row[fields[0]] = usual if number % 6 == 1 else variants[(number // 6) % len(variants)]
    return row
