"""Bulk rows into PostgreSQL with COPY, inside the session's transaction.

psycopg's executemany sends one Bind/Execute per row and multi-row VALUES statements cost a
slow client-side parse per placeholder; COPY streams the rows in one command. Rows that may
already exist (content-addressed ones) go through a staging table and one INSERT ... SELECT
... ON CONFLICT DO NOTHING, so a concurrent writer storing the same row is not an error (its
RETURNING gives the ids of the rows added). Rows whose ids the caller needs take them from their
table's sequence before the COPY, instead of INSERT ... RETURNING (`copy_numbered`). JSON
goes through the connection's own serializer (the engine's `digests.stored_json`), so a
`JSONText` is sent as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import JSON, Table
from sqlalchemy.orm import Session

STAGE = "wwc_copy_stage"


def _write(
    session: Session,
    target: str,
    table: Table,
    columns: list[str],
    rows: list[dict[str, Any]],
    ids: Sequence[int] | None = None,
) -> None:
    """COPY the rows' `columns` into `target`; with `ids`, each row's id first (the same order)."""
    json_columns = {name for name in columns if isinstance(table.c[name].type, JSON)}
    quote = session.get_bind().dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in (["id", *columns] if ids is not None else columns))
    raw = session.connection().connection.driver_connection  # psycopg, in this transaction
    with raw.cursor() as cursor, cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
        for index, row in enumerate(rows):
            line = [Jsonb(row[name]) if name in json_columns else row[name] for name in columns]
            copy.write_row(line if ids is None else [ids[index], *line])


def copy_numbered(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int] | None:
    """COPY the rows with ids drawn first from the table's own id sequence (one query for them
    all), and return those ids in order: what INSERT ... RETURNING id tells, without its
    multi-row VALUES statements, which psycopg parses client-side per placeholder (half a big
    portal's dataset write, profiled). The ids are the sequence's, so concurrent writers never
    collide, as with the column's default. None, with nothing done, when the rows name different
    columns or an id of their own."""
    if "id" in rows[0] or any(row.keys() != rows[0].keys() for row in rows):
        return None
    target = session.get_bind().dialect.identifier_preparer.format_table(table)
    raw = session.connection().connection.driver_connection
    numbered = raw.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", (target, len(rows))
    )
    ids = [pk for (pk,) in numbered]
    _write(session, target, table, list(rows[0]), rows, ids)
    return ids


def copy_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """COPY the rows (dicts with the same keys) into the table."""
    preparer = session.get_bind().dialect.identifier_preparer
    _write(session, preparer.format_table(table), table, list(rows[0]), rows)


def copy_new_rows(
    session: Session, table: Table, rows: list[dict[str, Any]], keys: list[str], returning: Sequence[str] = ()
) -> list[tuple[Any, ...]]:
    """COPY the rows into a staging table, then add those whose `keys` are not taken yet; the
    `returning` columns of the rows this call added (none for a row a concurrent writer took)."""
    preparer = session.get_bind().dialect.identifier_preparer
    columns = list(rows[0])
    names = ", ".join(preparer.quote(name) for name in columns)
    target = preparer.format_table(table)
    raw = session.connection().connection.driver_connection
    raw.execute(f"CREATE TEMP TABLE {STAGE} ON COMMIT DROP AS SELECT {names} FROM {target} WITH NO DATA")
    _write(session, STAGE, table, columns, rows)
    conflict = ", ".join(preparer.quote(name) for name in keys)
    back = f" RETURNING {', '.join(preparer.quote(name) for name in returning)}" if returning else ""
    added = raw.execute(
        f"INSERT INTO {target} ({names}) SELECT {names} FROM {STAGE} "
        f"ON CONFLICT ({conflict}) DO NOTHING{back}"
    )
    made = added.fetchall() if returning else []
    raw.execute(f"DROP TABLE {STAGE}")
    return made
