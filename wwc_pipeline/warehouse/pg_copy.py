"""Bulk rows into PostgreSQL with COPY, inside the session's transaction.

psycopg's executemany sends one Bind/Execute per row and multi-row VALUES statements cost a
slow client-side parse per placeholder; COPY streams the rows in one command. Rows that may
already exist (content-addressed ones) go through a staging table and one INSERT ... SELECT
... ON CONFLICT DO NOTHING, so a concurrent writer storing the same row is not an error. JSON
goes through the connection's own serializer (the engine's `digests.stored_json`), so a
`JSONText` is sent as it is.
"""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import JSON, Table
from sqlalchemy.orm import Session

STAGE = "wwc_copy_stage"


def _write(
    session: Session, target: str, table: Table, columns: list[str], rows: list[dict[str, Any]]
) -> None:
    json_columns = {name for name in columns if isinstance(table.c[name].type, JSON)}
    quote = session.get_bind().dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    raw = session.connection().connection.driver_connection  # psycopg, in this transaction
    with raw.cursor() as cursor, cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([Jsonb(row[name]) if name in json_columns else row[name] for name in columns])


def copy_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """COPY the rows (dicts with the same keys) into the table."""
    preparer = session.get_bind().dialect.identifier_preparer
    _write(session, preparer.format_table(table), table, list(rows[0]), rows)


def copy_new_rows(session: Session, table: Table, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """COPY the rows into a staging table, then add those whose `keys` are not taken yet."""
    preparer = session.get_bind().dialect.identifier_preparer
    columns = list(rows[0])
    names = ", ".join(preparer.quote(name) for name in columns)
    target = preparer.format_table(table)
    raw = session.connection().connection.driver_connection
    raw.execute(f"CREATE TEMP TABLE {STAGE} ON COMMIT DROP AS SELECT {names} FROM {target} WITH NO DATA")
    _write(session, STAGE, table, columns, rows)
    conflict = ", ".join(preparer.quote(name) for name in keys)
    raw.execute(
        f"INSERT INTO {target} ({names}) SELECT {names} FROM {STAGE} ON CONFLICT ({conflict}) DO NOTHING"
    )
    raw.execute(f"DROP TABLE {STAGE}")
