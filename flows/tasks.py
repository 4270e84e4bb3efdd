"""The one Prefect task both flows share: scan one city and publish its scores as an artifact."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from wwc_pipeline.config import load_cities, load_criteria
from wwc_pipeline.http import HttpClient
from wwc_pipeline.http_waits import retry_backoff_default
from wwc_pipeline.pipeline import scan_city
from wwc_pipeline.reports import render_markdown
from wwc_pipeline.warehouse import Warehouse


def artifact_key(city_id: str) -> str:
    """Prefect artifact keys allow lower-case letters, digits and dashes only."""
    return "wwc-" + re.sub(r"[^a-z0-9-]+", "-", city_id.lower()).strip("-")


@task(name="scan-city", task_run_name="scan-{city_id}")
def scan_city_task(
    city_id: str,
    kind: str = "rescan",
    trigger: str = "cli",
    cities_file: str | None = None,
    as_of: datetime | None = None,
) -> dict:
    """Scan one city; return a plain summary (status, run id, failed portals, harvest warnings, scores)."""
    logger = get_run_logger()
    cities = load_cities(Path(cities_file) if cities_file else None)
    city = cities.city(city_id)
    criteria = load_criteria()
    warehouse = Warehouse()
    warehouse.migrate()
    with HttpClient(backoff=retry_backoff_default()) as client:
        result = scan_city(
            city,
            warehouse=warehouse,
            criteria=criteria,
            client=client,
            kind=kind,
            trigger=trigger,
            as_of=as_of,
            run_deadline_s=cities.run_deadline_s,
        )
    logger.info("city %s: run %s %s", city_id, result.run_id, result.status)
    if result.status != "failed":
        report = warehouse.city_report(city_id, result.run_id)
        create_markdown_artifact(
            key=artifact_key(city_id),
            markdown=render_markdown(report),
            description=f"WWC evidence scores for {city.name}, run {result.run_id}",
        )
    return {
        "city_id": city_id,
        "run_id": result.run_id,
        "status": result.status,
        "error": result.error,
        "failed_portals": result.failed_portals,
        "warnings": result.warnings,
        "datasets": result.datasets,
        "scores": {row["criterion_id"]: (row["score"], row["status"]) for row in result.scores},
    }
