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
    columns = list(rows[0])
    if not _numbering(session) or not _same_columns(rows, columns):
        return None
    return insert_numbered_values(
        session, table, columns, _bound(session, table, columns, rows), conflict_keys
    )


def insert_numbered_values(
    session: Session,
    table: Any,
    columns: Sequence[str],
    values: list[tuple],
    conflict_keys: Sequence[str] = (),
) -> list[int] | None:
    """`insert_numbered` for rows given as tuples in `columns` order, each value already as the
    database takes it (no bind processing: a JSON column's value is its JSON text)."""
    if not _numbering(session):
        return None
    first_id = (session.execute(select(func.max(table.c.id))).scalar() or 0) + 1
    numbered = [(pk, *row) for pk, row in zip(count(first_id), values)]
    if _execute(session, table, ["id", *columns], numbered, conflict_keys) != len(values):
        return None
    return list(range(first_id, first_id + len(values)))


def executemany_values(session: Session, table: Any, columns: Sequence[str], values: list[tuple]) -> None:
    """One executemany of tuples in `columns` order, each value already as the database takes it."""
    _execute(session, table, columns, values, ())


def _numbering(session: Session) -> bool:
    connection = session.connection()
    return connection.dialect.name == "sqlite" and bool(connection.get_execution_options().get("wwc_write"))


def _same_columns(rows: list[dict], columns: list[str]) -> bool:
    first = rows[0].keys()
    return all(len(row) == len(columns) and row.keys() == first for row in rows)


def _insert(session: Session, table: Any, rows: list[dict], conflict_keys: Sequence[str]) -> int | None:
    """The rows inserted (None: the rows name different columns, nothing done)."""
    columns = list(rows[0])
    if not _same_columns(rows, columns):
        return None
    return _execute(session, table, columns, _bound(session, table, columns, rows), conflict_keys)


def _bound(session: Session, table: Any, columns: list[str], rows: list[dict]) -> list[tuple]:
    """One tuple a row, each value through its column type's bind processor."""
    dialect = session.get_bind().dialect
    processors = [
        (index, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        for index, name in enumerate(columns)
    ]
    processors = [(index, process) for index, process in processors if process is not None]
    if not processors:
        return [tuple(row.values()) for row in rows]
    values = []
    for row in rows:
        line = list(row.values())
        for index, process in processors:
            line[index] = process(line[index])
        values.append(tuple(line))
    return values


def _execute(
    session: Session, table: Any, columns: Sequence[str], values: list[tuple], conflict_keys: Sequence[str]
) -> int:
    conflict = " ON CONFLICT ({}) DO NOTHING".format(", ".join(conflict_keys)) if conflict_keys else ""
    names = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join("?" for _ in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks}){conflict}'
    return session.connection().exec_driver_sql(sql, values).rowcount
