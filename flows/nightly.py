"""`nightly-scan`: every configured city, every portal its own tasks; a failing portal fails alone.

Each city gets a warehouse run (with this flow run's id); its portals go through harvest ->
evaluate -> write tasks, many at once (cities.yaml `concurrency`), and the city's scores are
computed as soon as its last portal is done. The flow fails when a whole city failed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from prefect import flow
from prefect.runtime import flow_run
from wwc_pipeline.flows.errors import CityScanFailed
from wwc_pipeline.flows.portal_driver import PortalDriver
from wwc_pipeline.flows.portal_tasks import close_resources, quality_ahead, resources
from wwc_pipeline.flows.runners import with_runner

from wwc_pipeline import collector, portal_steps
from wwc_pipeline.config import CitiesConfig, Concurrency, load_cities, load_criteria
from wwc_pipeline.pipeline import utc_now
from wwc_pipeline.warehouse.convert import portal_key


def start_runs(
    config: CitiesConfig, settings: Concurrency, city_ids: list[str], kind: str, trigger: str, as_of: datetime
) -> dict[str, list[portal_steps.PortalJob]]:
    """A warehouse run per city (named after this flow run), all in one write; the portal jobs of each."""
    _, warehouse, _ = resources(settings)
    cities = [config.city(city_id) for city_id in city_ids]
    names = [(city.id, city.name) for city in cities]
    run_ids = warehouse.start_runs(names, kind, trigger, as_of, flow_run.id)
    return {
        city.id: portal_steps.portal_jobs(city, run_id, as_of)
        for city, run_id in zip(cities, run_ids, strict=True)
    }


def last_harvests(
    settings: Concurrency, jobs: dict[str, list[portal_steps.PortalJob]]
) -> dict[str, tuple[int, int]]:
    """Job label -> (catalog pages, records) of the portal's last harvest (PortalDriver's order)."""
    _, warehouse, _ = resources(settings)
    found = warehouse.last_harvests(list(jobs))
    return {
        job.label: found[key]
        for city_jobs in jobs.values()
        for job in city_jobs
        if (key := (job.city_id, job.portal.platform, portal_key(job.portal.url))) in found
    }


@flow(name="scan-portals")
def scan_portals(
    cities_file: str | None, city_ids: list[str] | None, kind: str, trigger: str, as_of: datetime | None
) -> dict[str, dict]:
    """The cities' portals through their tasks, on the runner cities.yaml `concurrency` names."""
    config = load_cities(Path(cities_file) if cities_file else None)
    chosen = city_ids or [city.id for city in config.cities]
    portals = [portal for city_id in chosen for portal in config.city(city_id).portals]
    settings = config.concurrency.for_run(len(portals))
    try:
        quality_ahead(settings, portals)  # the CLI may have started them already
        with collector.tuned_for_run():  # its full collection readies the process: before the runs start
            jobs = start_runs(config, settings, chosen, kind, trigger, as_of or utc_now())
            driver = PortalDriver(settings, load_criteria(), last_harvests=last_harvests(settings, jobs))
            return driver.run(jobs)
    finally:
        close_resources()


def scan_cities(
    cities_file: str | None, city_ids: list[str] | None, kind: str, trigger: str, as_of: datetime | None
) -> dict[str, dict]:
    """Run `scan-portals` as a subflow with the task runner the config asks for."""
    settings = load_cities(Path(cities_file) if cities_file else None).concurrency
    return with_runner(scan_portals, settings)(cities_file, city_ids, kind, trigger, as_of)


@flow(name="nightly-scan")
def nightly_scan(
    cities_file: str | None = None,
    trigger: str = "schedule",
    kind: str = "nightly",
    as_of: datetime | None = None,
) -> dict[str, dict]:
    """Scan every city in config/cities.yaml (or `cities_file`); fail the run if a city failed."""
    summaries = scan_cities(cities_file, None, kind, trigger, as_of)
    if any(summary["status"] == "failed" for summary in summaries.values()):
        raise CityScanFailed(summaries)
    return summaries
