"""`wwc serve`: the two flows served as deployments `nightly-scan` (cron) and `rescan-city`."""

from __future__ import annotations

from prefect import serve
from prefect.schedules import Cron
from wwc_pipeline.flows.nightly import nightly_scan
from wwc_pipeline.flows.rescan import rescan_city
from wwc_pipeline.flows.retry import retry_portals

from wwc_pipeline.config import CitiesConfig


def build_deployments(config: CitiesConfig) -> list:
    nightly = nightly_scan.to_deployment(
        name="nightly-scan",
        schedules=[Cron(config.schedule.cron, timezone=config.schedule.timezone)],
        description="Scan every configured city (config/cities.yaml).",
    )
    rescan = rescan_city.to_deployment(
        name="rescan-city",
        description="Re-scan one city now; parameter `city` is its id in config/cities.yaml.",
    )
    retry = retry_portals.to_deployment(
        name="retry-portals",
        description="Retry the failed portals of run `run_id` (or the `portals` named) inside that run.",
    )
    return [nightly, rescan, retry]


def serve_deployments(config: CitiesConfig) -> None:
    serve(*build_deployments(config))
