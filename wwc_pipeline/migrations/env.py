"""Alembic environment: run on the connection `engine.upgrade()` hands over, or on a URL.

Programmatic use (the normal path) puts an open connection in `config.attributes["connection"]`.
The `alembic` command line also works: `alembic -x url=sqlite:///wwc-data/warehouse.db upgrade head`
with `-c` pointing at an ini that sets `script_location` to this directory, else WWC_DATABASE_URL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from wwc_pipeline.warehouse.engine import database_url, get_engine
from wwc_pipeline.warehouse.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or database_url()
    with get_engine(url).connect() as connection:
        _run(connection)
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
