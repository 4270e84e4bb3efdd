"""Bulk inserts on SQLite as one DB-API executemany of tuples (pg_copy.py is PostgreSQL's way)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import count
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session


def executemany(session: Session, table: Any, rows: list[dict], conflict_keys: Sequence[str] = ()) -> bool:
    """INSERT [... ON CONFLICT (keys) DO NOTHING] of rows that all name the same columns, as one
    DB-API executemany of tuples, each value through its column type's bind processor (what
    SQLAlchemy would do, without building a parameter dict per row: a seventh of a portal
    write's CPU, profiled). False, with nothing done, when the rows name different columns."""
    return _insert(session, table, rows, conflict_keys) is not None


def insert_numbered(
    session: Session, table: Any, rows: list[dict], conflict_keys: Sequence[str] = ()
) -> list[int] | None:
    """The rows inserted with ids numbered on from the table's largest, and those ids in order,
    so that the caller needs neither RETURNING nor a lookup to learn them. Only inside a SQLite
    write transaction (BEGIN IMMEDIATE, engine._sqlite_setup: no other connection can insert
    until it ends). None when that does not hold (nothing done) or when a row was skipped on a
    conflict (the others are in: the caller looks the ids up)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite" or not connection.get_execution_options().get("wwc_write"):
        return None
    first_id = (session.execute(select(func.max(table.c.id))).scalar() or 0) + 1
    inserted = _insert(session, table, rows, conflict_keys, first_id)
    if inserted != len(rows):
        return None
    return list(range(first_id, first_id + len(rows)))


def _insert(
    session: Session, table: Any, rows: list[dict], conflict_keys: Sequence[str], first_id: int | None = None
) -> int | None:
    """The rows inserted (None: the rows name different columns, nothing done); with `first_id`,
    the rows get the ids first_id, first_id + 1, ... in order."""
    columns = list(rows[0])
    if any(len(row) != len(columns) or row.keys() != rows[0].keys() for row in rows):
        return None
    dialect = session.get_bind().dialect
    processors = [
        (index, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        for index, name in enumerate(columns)
    ]
    processors = [(index, process) for index, process in processors if process is not None]
    numbers = None if first_id is None else count(first_id)
    values = []
    for row in rows:  # one tuple a row, its id first when numbered
        line: Any = row.values()
        if processors:
            line = list(line)
            for index, process in processors:
                line[index] = process(line[index])
        values.append(tuple(line) if numbers is None else (next(numbers), *line))
    if numbers is not None:
        columns = ["id", *columns]
    conflict = " ON CONFLICT ({}) DO NOTHING".format(", ".join(conflict_keys)) if conflict_keys else ""
    names = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join("?" for _ in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks}){conflict}'
    return session.connection().exec_driver_sql(sql, values).rowcount
