"""`nightly-scan`: every configured city; one city's failure is recorded and the others go on."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner
from wwc_pipeline.flows.errors import CityScanFailed
from wwc_pipeline.flows.tasks import scan_city_task

from wwc_pipeline.config import load_cities
from wwc_pipeline.pipeline import one_line

MAX_PARALLEL_CITIES = 4


@flow(name="nightly-scan", task_runner=ThreadPoolTaskRunner(max_workers=MAX_PARALLEL_CITIES))
def nightly_scan(
    cities_file: str | None = None,
    trigger: str = "schedule",
    kind: str = "nightly",
    as_of: datetime | None = None,
) -> dict[str, dict]:
    """Scan every city in config/cities.yaml (or `cities_file`); fail the run if any city failed."""
    config = load_cities(Path(cities_file) if cities_file else None)
    futures = {
        city.id: scan_city_task.submit(
            city.id, kind=kind, trigger=trigger, cities_file=cities_file, as_of=as_of
        )
        for city in config.cities
    }
    summaries: dict[str, dict] = {}
    for city_id, future in futures.items():
        try:
            summaries[city_id] = future.result()
        except Exception as error:  # noqa: BLE001 - one city's crash must not hide the others
            summaries[city_id] = {"city_id": city_id, "status": "failed", "error": one_line(error)}
    if any(summary["status"] == "failed" for summary in summaries.values()):
        raise CityScanFailed(summaries)
    return summaries
