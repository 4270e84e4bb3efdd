"""Big reads on SQLite as one JSON text per query, not one row per step.

Python's sqlite3 lets go of the GIL for every row it steps to and must take it back before the
next one. While another thread of the nightly is busy in Python, taking it back waits up to the
interpreter's switch interval (5 ms): 100,000 stored records read one at a time took 1.1 s alone
and 166 s beside one busy thread, packed 1.8 s and 3.0 s (benchmarks/packed_reads.py). Packed, SQLite
builds the query's rows as one JSON array in one step (`json_group_array`), without the GIL,
and `json.loads` turns it into Python values at once. Each value goes through its column type's
result processor, as SQLAlchemy would; JSON columns arrive decoded (their text copied as stored:
numbers keep every digit). Not for REAL columns that need all 17 digits back (SQLite writes a
REAL into JSON with 15) nor for BLOBs (JSON cannot hold them): no read here has either.
PostgreSQL's driver reads a result whole already: there the rows are read as they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import JSON, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

# Entries of an entry list read by one packed query (a record's JSON is about 1.5 kB: a few MB
# of text at a time, however big the catalog)
POSITIONS_AT_ONCE = 2000


def _is_json(column: Any) -> bool:
    """JSON, or a type decorating it: its stored text is embedded as JSON, not as a string."""
    return isinstance(column.type, JSON) or isinstance(getattr(column.type, "impl", None), JSON)


def rows(connection: Connection, query: Select) -> list[tuple]:
    """The query's rows as tuples: on SQLite read as one packed JSON array, elsewhere as usual."""
    if connection.dialect.name != "sqlite":
        return [tuple(row) for row in connection.execute(query)]
    inner = query.subquery()
    columns = list(inner.c)
    values = [func.json(column) if _is_json(column) else column for column in columns]
    text = connection.execute(select(func.json_group_array(func.json_array(*values)))).scalar()
    dialect = connection.dialect
    processors = [
        (index, column.type.dialect_impl(dialect).result_processor(dialect, None))
        for index, column in enumerate(columns)
        if not _is_json(column)
    ]
    processors = [(index, process) for index, process in processors if process is not None]
    found = json.loads(text) if text else []
    if not processors:
        return [tuple(row) for row in found]
    made = []
    for row in found:
        for index, process in processors:
            row[index] = process(row[index])
        made.append(tuple(row))
    return made


def by_positions(
    connection: Connection, query: Select, position: Any, end: int, at_once: int = POSITIONS_AT_ONCE
) -> Iterator[tuple]:
    """Every row of `query`, read `at_once` positions a query over 0 .. end - 1 (memory stays that
    of one part; `position`: the column to part by, indexed). The first part is open below and the
    last open above, so that a row out of that range still comes back (for the caller to judge)."""
    if connection.dialect.name != "sqlite":
        yield from (tuple(row) for row in connection.execute(query))
        return
    starts = range(0, max(end, 1), at_once)
    for start in starts:
        part = query if start == starts[0] else query.where(position >= start)
        if start != starts[-1]:
            part = part.where(position < start + at_once)
        yield from rows(connection, part)
