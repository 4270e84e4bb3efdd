"""`retry-portals`: the failed portals of a finished run, again, inside that same run.

A portal that failed (down, faulted) leaves its city's run `partial`; once it is back, this
flow runs its tasks again with the run's own `as_of`, then scores the city from every portal's
evidence (the others' rebuilt from the warehouse) and finishes the run again: `succeeded` when
no portal is left failed.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.runtime import flow_run
from wwc_pipeline.flows.errors import CityScanFailed
from wwc_pipeline.flows.portal_driver import PortalDriver
from wwc_pipeline.flows.portal_tasks import close_resources, resources

from wwc_pipeline import portal_steps
from wwc_pipeline.config import ConfigError, load_cities, load_criteria
from wwc_pipeline.portal_steps import PortalDone


def failed_portals(info: dict, wanted: list[str] | None) -> list[str]:
    failed = [url for url, portal in info["portals"].items() if portal["status"] == "failed"]
    if not wanted:
        return failed
    unknown = [url for url in wanted if url.rstrip("/") not in info["portals"]]
    if unknown:
        known = ", ".join(info["portals"]) or "none"
        raise ConfigError(f"run {info['id']} has no portal {unknown[0]}; its portals: {known}")
    return [url.rstrip("/") for url in wanted]


@flow(name="retry-portals")
def retry_portals(run_id: int, portals: list[str] | None = None, cities_file: str | None = None) -> dict:
    """Retry the failed portals of run `run_id` (or the `portals` named); fail if the city still fails."""
    config = load_cities(Path(cities_file) if cities_file else None)
    settings = config.concurrency
    try:
        _, warehouse, _ = resources(settings)
        info = warehouse.run_info(run_id)
        city = config.city(info["city_id"])
        urls = failed_portals(info, portals)
        if not urls:
            return {"city_id": city.id, "run_id": run_id, "status": info["status"], "retried": []}
        jobs = [
            job
            for job in portal_steps.portal_jobs(city, run_id, info["as_of_time"])
            if job.portal.url in urls
        ]
        warehouse.reopen_run(run_id)
        warehouse.set_flow_run(run_id, flow_run.id)
        driver = PortalDriver(settings, load_criteria())
        retried = driver.collect_only({city.id: jobs})[city.id]
        evidence = warehouse.run_evidence(run_id)
        done = []
        for portal in city.portals:
            if portal.url in retried:
                done.append(retried[portal.url])
            elif portal.url in evidence:
                item = evidence[portal.url]
                done.append(
                    PortalDone(
                        portal.url, item, len(item.datasets), error=None if item.harvested else item.error
                    )
                )
        result = portal_steps.close_city(city.id, run_id, done, load_criteria(), warehouse)
        summary = {**portal_steps.summary(result), "retried": urls}
    finally:
        close_resources()
    if summary["status"] == "failed":
        raise CityScanFailed({city.id: summary})
    return summary
