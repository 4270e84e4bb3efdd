"""A small simulated city scanned over several nights (no Prefect): the report tests' warehouse.

The simulator stays up while the fixture lives, so tests can follow a dataset's link to its page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from wwc_pipeline.config import CityConfig, PortalConfig, load_criteria
from wwc_pipeline.demo import age_catalogs
from wwc_pipeline.http import HttpClient
from wwc_pipeline.pipeline import scan_city
from wwc_pipeline.simulator import GeneratedCatalog, PortalSimulator
from wwc_pipeline.warehouse import Warehouse

NOW = datetime(2025, 6, 4, 2, 0, tzinfo=UTC)


@dataclass
class ScannedCity:
    warehouse: Warehouse
    city_id: str
    run_ids: list[int]
    portal_url: str


@contextmanager
def scanned_city(tmp_path: Path, nights: int = 3, size: int = 60) -> Iterator[ScannedCity]:
    """`nights` scans of one Socrata city, a day apart, the catalog ageing in between."""
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'warehouse.db'}")
    warehouse.migrate()
    times = [NOW - timedelta(days=nights - 1 - night) for night in range(nights)]
    catalog = GeneratedCatalog(size=size, seed=7, as_of=times[0], name="Testville", share_dirty=0.3)
    with PortalSimulator() as simulator:
        portal = simulator.add_portal(platform="socrata", catalog=catalog)
        city = CityConfig(
            id="testville", name="Testville", portals=[PortalConfig(platform="socrata", url=portal.url)]
        )
        run_ids = []
        criteria = load_criteria()
        for night, as_of in enumerate(times):
            if night:
                age_catalogs({"testville": [catalog]}, night, as_of)
            with HttpClient(min_interval=0) as client:
                result = scan_city(city, warehouse=warehouse, criteria=criteria, client=client, as_of=as_of)
            run_ids.append(result.run_id)
        yield ScannedCity(warehouse, "testville", run_ids, portal.url)
    warehouse.dispose()
