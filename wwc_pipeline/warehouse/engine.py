"""Where the warehouse lives: the database URL, one cached engine per URL, and migrations."""

from __future__ import annotations

import atexit
import contextlib
import os
import sqlite3
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, exc, make_url, text
from sqlalchemy.engine import URL

from wwc_pipeline.warehouse.checkpointer import Checkpointer
from wwc_pipeline.warehouse.digests import stored_json

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_ENGINES: dict[str, Engine] = {}
_CHECKPOINTERS: dict[str, Checkpointer] = {}
_ENGINES_LOCK = threading.Lock()
# Any constant: PostgreSQL advisory lock key that serializes concurrent `migrate()` calls.
_MIGRATION_LOCK_KEY = 7_715_200_401


class WarehouseError(RuntimeError):
    """The warehouse cannot be used: the message says why in one line, without secrets."""


def database_url() -> str:
    """`WWC_DATABASE_URL`, else the SQLite file `<WWC_DATA_DIR or ./wwc-data>/warehouse.db`."""
    configured = os.environ.get("WWC_DATABASE_URL", "").strip()
    if configured:
        return configured
    data_dir = Path(os.environ.get("WWC_DATA_DIR", "wwc-data")).expanduser().resolve()
    return f"sqlite:///{data_dir / 'warehouse.db'}"


def safe_url(url: str | URL) -> str:
    """The URL as text with any password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "<unparseable database URL>"


def first_line(error: BaseException) -> str:
    """The first line of an error's text (drivers add multi-line hints and SQL)."""
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


WRITE = {"wwc_write": True}  # execution options of a connection that will write
# A write transaction's SQLite page cache (KiB; SQLite's default is 2,000). A 10,000-dataset
# portal's 130,000 check results grow indexes of random digests well past the default, which
# then evicts and re-reads their pages: 64 MiB took a third off those inserts (measured). Only
# while writing, and SQLite has one writer at a time: one connection holds it at once.
WRITE_CACHE_KIB = 65_536
_DEFAULT_CACHE = "wwc_default_cache_size"  # connection record info: the cache size to go back to


def _sqlite_setup(engine: Engine, checkpointer: Checkpointer | None) -> None:
    """Foreign keys on; write transactions take the lock at BEGIN, so writers queue, not fail.

    A deferred SQLite transaction that reads then writes fails at once ("database is locked")
    when another writer got there first; BEGIN IMMEDIATE makes it wait for busy_timeout instead.
    A write transaction gets a bigger page cache, given back when its connection returns to the
    pool (a smaller cache_size frees the pages over it). With a `checkpointer` (a file), these
    connections leave the WAL checkpoints to it, and each write that ends wakes it.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001 - DB-API objects
        dbapi_connection.isolation_level = None  # let the "begin" hook below emit BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        if checkpointer is not None:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # noqa: ANN001
        write = connection.get_execution_options().get("wwc_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
        info = connection.connection.info  # the pooled connection's record
        if write and _DEFAULT_CACHE not in info:
            info[_DEFAULT_CACHE] = connection.exec_driver_sql("PRAGMA cache_size").scalar()
            connection.exec_driver_sql(f"PRAGMA cache_size=-{WRITE_CACHE_KIB}")

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection, record) -> None:  # noqa: ANN001
        default = record.info.pop(_DEFAULT_CACHE, None)
        if default is not None and dbapi_connection is not None:
            dbapi_connection.execute(f"PRAGMA cache_size={int(default)}")
        if default is not None and checkpointer is not None:  # a write transaction has ended
            checkpointer.nudge()


def _is_sqlite_file(url: URL) -> bool:
    database = url.database or ""
    return (
        url.get_backend_name() == "sqlite"
        and database not in ("", ":memory:")
        and not database.startswith("file:")
    )


def get_engine(url: str) -> Engine:
    """The one engine for this URL (created on first use); bad URLs raise WarehouseError."""
    with _ENGINES_LOCK:
        engine = _ENGINES.get(url)
        if engine is not None:
            return engine
        try:
            parsed = make_url(url)
            if _is_sqlite_file(parsed):
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            # a pooled connection to a server may have gone stale; one to a SQLite file cannot, and
            # the ping is a statement more at every checkout, each a wait for the GIL in a busy run
            ping = parsed.get_backend_name() != "sqlite"
            engine = create_engine(parsed, pool_pre_ping=ping, json_serializer=stored_json)
        except (exc.ArgumentError, exc.NoSuchModuleError, ImportError, ValueError) as error:
            raise WarehouseError(f"bad database URL {safe_url(url)}: {first_line(error)}") from None
        except OSError as error:
            raise WarehouseError(
                f"cannot create the warehouse directory for {safe_url(url)}: {error}"
            ) from None
        if engine.dialect.name == "sqlite":
            file = _is_sqlite_file(parsed)
            checkpointer = Checkpointer(os.path.abspath(parsed.database)) if file else None
            _sqlite_setup(engine, checkpointer)
            if checkpointer is not None:
                _CHECKPOINTERS[url] = checkpointer
        _ENGINES[url] = engine
        return engine


def dispose_engine(url: str) -> None:
    """Close the cached engine's connections and forget it (tests, or before deleting a file)."""
    with _ENGINES_LOCK:
        engine = _ENGINES.pop(url, None)
        checkpointer = _CHECKPOINTERS.pop(url, None)
    if checkpointer is not None:
        checkpointer.stop()
    if engine is not None:
        engine.dispose()


@atexit.register
def dispose_all_engines() -> None:
    """Close every cached engine's connections (at exit). SQLite's last connection to close copies
    the write-ahead log into the database file and deletes the log: without it a process that ends
    leaves its last writes in `<file>-wal`, and a copy of the file alone misses them (a nightly's
    finished runs and scores read as still running)."""
    with _ENGINES_LOCK:
        urls = list(_ENGINES)
    for url in urls:  # on an error the log stays, and the next open replays it
        with contextlib.suppress(exc.SQLAlchemyError, sqlite3.Error, OSError):
            dispose_engine(url)


def checkpointer_of(url: str) -> Checkpointer | None:
    """The WAL checkpoint thread of this URL's engine (a SQLite file's), if it has one."""
    with _ENGINES_LOCK:
        return _CHECKPOINTERS.get(url)


def alembic_config() -> Config:
    """Alembic configured from the installed package, without an ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    return config


def at_head(engine: Engine, config: Config) -> bool:
    """Whether the database is at the latest migration already: one read of alembic_version, so
    that a CLI start on a big warehouse skips the migration's foreign-key check (a scan of every
    row: 0.7 s of CPU at a tenth of the national size, measured, and growing with it)."""
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    return bool(current) and set(current) == set(ScriptDirectory.from_config(config).get_heads())


def upgrade(engine: Engine, revision: str = "head") -> None:
    """`alembic upgrade head` on this engine; a no-op when already there.

    On SQLite, foreign keys are off while migrating: a table that a migration rebuilds (copy,
    drop, rename) would otherwise take its children's rows with it through ON DELETE CASCADE.
    The keys are checked before the migration commits and turned back on afterwards.
    """
    config = alembic_config()
    if revision == "head" and at_head(engine, config):
        return
    with engine.connect().execution_options(**WRITE) as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # before BEGIN: SQLite ignores this pragma inside a transaction
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                    )
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise exc.IntegrityError(
                            "PRAGMA foreign_key_check", None, ValueError(f"{len(broken)} broken references")
                        )
        finally:
            if sqlite:
                connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")
