"""SQLite bulk inserts as DB-API tuples (warehouse/sqlite_bulk.py) store exactly what
SQLAlchemy's own executemany stores: the same text in every column, JSON and times included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, create_engine, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from wwc_pipeline.warehouse.digests import JSONText, canonical
from wwc_pipeline.warehouse.engine import WRITE, WRITE_CACHE_KIB, dispose_engine, get_engine
from wwc_pipeline.warehouse.models import JSONType, UtcTime
from wwc_pipeline.warehouse.sqlite_bulk import executemany as sqlite_executemany
from wwc_pipeline.warehouse.sqlite_bulk import insert_numbered

ROWS = [
    {
        "key": "a",
        "number": 1,
        "value": {"b": [1, 2.5, None], "a": "é"},
        "at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        "note": "",
    },
    {"key": "b", "number": None, "value": None, "at": None, "note": "x\ny"},
    {
        "key": "c",
        "number": -3,
        "value": [],
        "at": datetime(2026, 1, 2, 9, tzinfo=timezone(timedelta(hours=5))),
        "note": "'",
    },
    {
        "key": "d",
        "number": 0,
        "value": "text",
        "at": datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        "note": "z",
    },
]


def table(metadata: MetaData, name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True),
        Column("key", String(10), unique=True),
        Column("number", Integer),
        Column("value", JSONType, nullable=True),
        Column("at", UtcTime, nullable=True),
        Column("note", Text),
    )


def stored(session: Session, name: str) -> list[tuple]:
    return list(
        session.connection().exec_driver_sql(f'SELECT key, number, value, at, note FROM "{name}" ORDER BY id')
    )


def test_the_tuple_path_stores_what_sqlalchemy_stores(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'bulk.db'}")
    metadata = MetaData()
    ours, theirs = table(metadata, "ours"), table(metadata, "theirs")
    metadata.create_all(engine)
    with Session(engine) as session:
        assert sqlite_executemany(session, ours, [dict(row) for row in ROWS])
        session.execute(insert(theirs), [dict(row) for row in ROWS])
        assert stored(session, "ours") == stored(session, "theirs")
        assert len(stored(session, "ours")) == len(ROWS)
        # ON CONFLICT DO NOTHING: a taken key is skipped, a new one written
        again = [dict(ROWS[0], note="changed"), dict(ROWS[0], key="e")]
        assert sqlite_executemany(session, ours, again, ["key"])
        session.execute(sqlite.insert(theirs).on_conflict_do_nothing(index_elements=["key"]), again)
        assert stored(session, "ours") == stored(session, "theirs")
        assert [row[0] for row in stored(session, "ours")] == ["a", "b", "c", "d", "e"]
        kept = session.connection().exec_driver_sql("SELECT note FROM \"ours\" WHERE key = 'a'").scalar()
        assert kept == ""  # the conflicting row was skipped, not written over


def test_rows_naming_different_columns_are_left_to_sqlalchemy(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'bulk.db'}")
    metadata = MetaData()
    ours = table(metadata, "ours")
    metadata.create_all(engine)
    with Session(engine) as session:
        mixed = [{"key": "a", "number": 1}, {"key": "b", "note": "n"}]
        assert sqlite_executemany(session, ours, mixed) is False
        assert session.execute(text('SELECT COUNT(*) FROM "ours"')).scalar() == 0


def write_session(engine) -> Session:
    session = Session(engine)
    session.connection(execution_options=WRITE)
    return session


def test_numbered_rows_get_the_ids_sqlite_would_give_and_say_so(tmp_path):
    url = f"sqlite:///{tmp_path / 'numbered.db'}"
    engine = get_engine(url)
    metadata = MetaData()
    ours = table(metadata, "ours")
    metadata.create_all(engine)
    try:
        with write_session(engine) as session:
            session.execute(insert(ours), [{"key": "z", "note": "first"}])  # ids go on from the largest
            ids = insert_numbered(session, ours, [dict(row) for row in ROWS])
            stored_ids = list(session.execute(text('SELECT key, id FROM "ours" ORDER BY id')))
            assert stored_ids == [("z", 1), *zip([row["key"] for row in ROWS], ids, strict=True)]
            assert ids == [2, 3, 4, 5]
            # a skipped row leaves the caller to look the ids up; the others are in
            again = [dict(ROWS[0], note="changed"), dict(ROWS[0], key="e")]
            assert insert_numbered(session, ours, again, ["key"]) is None
            assert session.execute(text("SELECT COUNT(*) FROM \"ours\" WHERE key = 'e'")).scalar() == 1
            session.commit()
        with Session(engine) as session:  # not a write transaction: nothing done, None
            assert insert_numbered(session, ours, [{"key": "f", "note": ""}]) is None
            assert session.execute(text('SELECT COUNT(*) FROM "ours"')).scalar() == 6
    finally:
        dispose_engine(url)


def test_a_write_transaction_has_the_big_page_cache_and_gives_it_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'cache.db'}"
    engine = get_engine(url)
    cache_size = "PRAGMA cache_size"
    try:
        with engine.connect() as connection:
            default = connection.exec_driver_sql(cache_size).scalar()
            pooled = connection.connection.dbapi_connection
        assert default != -WRITE_CACHE_KIB
        with engine.connect().execution_options(**WRITE) as connection, connection.begin():
            assert connection.connection.dbapi_connection is pooled  # the same pooled connection
            assert connection.exec_driver_sql(cache_size).scalar() == -WRITE_CACHE_KIB
        with engine.connect() as connection:  # back in the pool: the cache it had before
            assert connection.connection.dbapi_connection is pooled
            assert connection.exec_driver_sql(cache_size).scalar() == default
        with engine.connect() as connection, connection.begin():  # a read transaction: as it was
            assert connection.exec_driver_sql(cache_size).scalar() == default
    finally:
        dispose_engine(url)


def test_json_text_is_stored_as_the_value_it_encodes(tmp_path):
    """The warehouse engine's serializer stores `JSONText` as it is: the same value reads back
    as from a value encoded by SQLAlchemy, through both insert paths."""
    url = f"sqlite:///{tmp_path / 'json.db'}"
    engine = get_engine(url)
    metadata = MetaData()
    ours = table(metadata, "ours")
    metadata.create_all(engine)
    values = [{"b": [1, 2.5, None], "a": "é"}, None, [], "text", 0, True]
    try:
        with write_session(engine) as session:
            rows = [{"key": f"k{n}", "value": JSONText(canonical(value))} for n, value in enumerate(values)]
            sqlite_executemany(session, ours, rows[:3])
            session.execute(insert(ours), rows[3:])
            read = [row.value for row in session.execute(select(ours.c.value).order_by(ours.c.id))]
            assert read == values
    finally:
        dispose_engine(url)


def test_the_wal_is_checkpointed_beside_the_writes_not_at_their_commit(tmp_path):
    """The engine's connections never checkpoint (wal_autocheckpoint=0); a write that ends wakes
    the checkpoint thread, which copies the log into the database file; dispose stops it."""
    import time

    from wwc_pipeline.warehouse.engine import checkpointer_of

    path = tmp_path / "wal.db"
    url = f"sqlite:///{path}"
    engine = get_engine(url)
    checkpointer = checkpointer_of(url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        with engine.connect().execution_options(**WRITE) as connection, connection.begin():
            connection.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT)")
            rows = [("x" * 500,) for _ in range(20_000)]
            connection.exec_driver_sql("INSERT INTO t (note) VALUES (?)", rows)
        # the commit left the rows in the log: the file holds them once the thread has run
        deadline = time.monotonic() + 30
        while checkpointer.checkpoints == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert checkpointer.checkpoints >= 1
        assert path.stat().st_size > 20_000 * 500
    finally:
        dispose_engine(url)
    assert checkpointer._thread is not None and not checkpointer._thread.is_alive()
    assert checkpointer_of(url) is None and checkpointer_of("sqlite://") is None


def test_checkpoints_come_at_most_one_a_gap_and_stop_does_not_wait_it_out(tmp_path, monkeypatch):
    """Writes that end within CHECKPOINT_GAP_S of a checkpoint share the next one (a re-run's
    hundreds of small writes do not each sync the files); disposing the engine meanwhile is prompt."""
    import time

    from wwc_pipeline.warehouse import checkpointer as checkpointer_module
    from wwc_pipeline.warehouse.engine import checkpointer_of

    monkeypatch.setattr(checkpointer_module, "CHECKPOINT_GAP_S", 60.0)
    url = f"sqlite:///{tmp_path / 'gap.db'}"
    engine = get_engine(url)
    checkpointer = checkpointer_of(url)
    try:
        with engine.connect().execution_options(**WRITE) as connection, connection.begin():
            connection.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        deadline = time.monotonic() + 30
        while checkpointer.checkpoints == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert checkpointer.checkpoints == 1
        for _ in range(20):
            with engine.connect().execution_options(**WRITE) as connection, connection.begin():
                connection.exec_driver_sql("INSERT INTO t DEFAULT VALUES")
        time.sleep(0.5)
        assert checkpointer.checkpoints == 1  # the 20 writes wait for the gap to end
    finally:
        started = time.monotonic()
        dispose_engine(url)
    assert time.monotonic() - started < 10
    assert not checkpointer._thread.is_alive()


def test_a_process_that_ends_leaves_every_write_in_the_database_file_itself(tmp_path):
    """At exit the engines are disposed: the last connection copies the log into the file and
    deletes it, so a copy of the file alone holds the last write (the checkpoint thread's gap
    would otherwise leave it in `-wal`)."""
    import shutil
    import sqlite3
    import subprocess
    import sys

    path = tmp_path / "ends.db"
    script = (
        "from wwc_pipeline.warehouse.engine import WRITE, get_engine\n"
        f"engine = get_engine({f'sqlite:///{path}'!r})\n"
        "for n in range(3):\n"
        "    with engine.connect().execution_options(**WRITE) as connection, connection.begin():\n"
        "        connection.exec_driver_sql('CREATE TABLE IF NOT EXISTS t (n INTEGER)')\n"
        "        connection.exec_driver_sql('INSERT INTO t VALUES (?)', (n,))\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert not path.with_name("ends.db-wal").exists()
    alone = tmp_path / "copy.db"
    shutil.copyfile(path, alone)
    with sqlite3.connect(alone) as connection:
        assert connection.execute("SELECT n FROM t ORDER BY n").fetchall() == [(0,), (1,), (2,)]
