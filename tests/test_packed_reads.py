"""Packed reads (warehouse/packed_reads.py) give the rows a plain read gives, values typed alike.

On SQLite the rows come back as one JSON array built by the database; these tests hold that
path to the rows as inserted (ints, text with quotes and non-ASCII, NULLs, booleans, floats,
aware times, JSON objects, lists and nulls, a JSON path) and to what SQLAlchemy's own read
returns. PostgreSQL reads as usual: the same test runs there (CI=true: it must).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    Table,
    Text,
    create_engine,
    select,
)

from wwc_pipeline.warehouse import packed_reads

ROWS = [
    (
        0,
        'a "quoted" title, ünïcode \\ and a newline\n',
        True,
        1.5,
        datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
        {"columns": [{"name": "id"}], "n": 3},
        ["invalid_utf8"],
    ),
    (1, None, False, None, None, None, None),
    (2, "", None, -0.25, datetime(1999, 12, 31, 23, 59, 59, 123456, tzinfo=UTC), {"columns": None}, []),
]


def _table(metadata: MetaData, temporary: bool) -> Table:
    return Table(
        "packed_probe",
        metadata,
        Column("position", Integer, primary_key=True),
        Column("title", Text),
        Column("flag", Boolean),
        Column("share", Float),
        Column("seen_at", DateTime(timezone=True)),
        Column("record", JSON),
        Column("flags", JSON),
        prefixes=["TEMPORARY"] if temporary else [],
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def connection(request, tmp_path):
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'packed.db'}")
    else:
        engine = create_engine(request.getfixturevalue("postgres_url"))
    metadata = MetaData()
    table = _table(metadata, temporary=request.param == "postgresql")
    with engine.connect() as connection:
        metadata.create_all(connection)
        names = [column.name for column in table.c]
        connection.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in ROWS])
        yield connection, table
    engine.dispose()


def _comparable(row: tuple) -> tuple:
    """Times compared as instants (SQLite gives them back naive, in UTC, either way)."""
    return tuple(v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None else v for v in row)


def test_packed_rows_are_the_rows_inserted_and_the_plain_read(connection):
    connection, table = connection
    query = select(table).order_by(table.c.position)
    plain = [tuple(row) for row in connection.execute(query)]
    packed = sorted(packed_reads.rows(connection, query))
    assert [_comparable(row) for row in packed] == [_comparable(row) for row in ROWS]
    assert packed == plain  # the same Python values a plain read makes, types included
    assert [type(value) for value in packed[0]] == [type(value) for value in plain[0]]


def test_a_json_path_comes_back_decoded(connection):
    connection, table = connection
    query = select(table.c.position, table.c.record["columns"].label("columns")).order_by(table.c.position)
    assert sorted(packed_reads.rows(connection, query)) == [(0, [{"name": "id"}]), (1, None), (2, None)]


def test_reads_in_parts_of_positions_miss_nothing_at_the_edges(connection):
    connection, table = connection
    names = [column.name for column in table.c]
    blank = dict.fromkeys(names)
    connection.execute(table.insert(), [{**blank, "position": p} for p in (*range(3, 11), -1)])
    query = select(table.c.position, table.c.title)
    everything = [-1, *range(11)]
    for end, at_once in ((11, 1), (11, 2), (11, 3), (11, 11), (11, 50), (5, 2), (0, 3)):
        found = list(packed_reads.by_positions(connection, query, table.c.position, end, at_once=at_once))
        # parts cover 0 .. end - 1; a row outside (here -1, and past `end`) still comes back once
        assert sorted(position for position, _ in found) == everything, (end, at_once)


def test_an_empty_result_is_no_rows(connection):
    connection, table = connection
    assert packed_reads.rows(connection, select(table).where(table.c.position > 99)) == []
