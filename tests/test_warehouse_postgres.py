"""The warehouse scenarios of test_warehouse.py and test_warehouse_trace.py on PostgreSQL, each in a
fresh schema."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, make_url, text

from tests.test_warehouse import (
    SCENARIOS,
    catalog,
    results,
    scenario_rollback,
    snapshot,
    start,
)
from tests.test_warehouse_trace import TRACE_SCENARIOS
from wwc_pipeline.warehouse import PortalWriteStats, Warehouse

pytestmark = pytest.mark.postgres


@pytest.fixture
def wh(postgres_url: str) -> Warehouse:
    """A warehouse in a schema of its own (search_path set per connection), dropped afterwards."""
    schema = f"wwc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    warehouse = Warehouse(url.render_as_string(hide_password=False))
    try:
        warehouse.migrate()
        yield warehouse
    finally:
        warehouse.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.parametrize("scenario", SCENARIOS + TRACE_SCENARIOS, ids=lambda function: function.__name__)
def test_scenario_on_postgres(wh: Warehouse, scenario) -> None:
    assert wh.engine.dialect.name == "postgresql"
    scenario(wh)


def test_failure_mid_portal_rolls_back_on_postgres(wh: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario_rollback(wh, monkeypatch)


def test_tables_live_in_the_test_schema(wh: Warehouse) -> None:
    with wh.engine.connect() as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        tables = connection.execute(
            text("SELECT count(*) FROM information_schema.tables WHERE table_schema = :schema"),
            {"schema": schema},
        ).scalar_one()
    assert schema.startswith("wwc_test_")
    assert tables == 16  # fifteen warehouse tables and alembic_version


def test_concurrent_portal_writes_on_postgres(wh: Warehouse) -> None:
    run = start(wh)
    urls = [f"https://portal{number}.example.gov" for number in range(4)]

    def write(url: str) -> PortalWriteStats:
        return wh.record_portal(run, "springfield", "socrata", url, snapshot(catalog()), results(catalog()))

    with ThreadPoolExecutor(max_workers=4) as pool:
        stats = list(pool.map(write, urls))
    assert stats == [PortalWriteStats(new_datasets=3, new_versions=0, unchanged=0)] * 4
    assert wh.count_rows("check_results") == 28
    assert wh.city_report("springfield", run)["portals"][0]["url"] in urls
