"""`rescan-city`: one city now (after a portal fix, before a review), portal by portal as nightly."""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from wwc_pipeline.flows.errors import CityScanFailed
from wwc_pipeline.flows.nightly import scan_cities


@flow(name="rescan-city")
def rescan_city(
    city: str,
    cities_file: str | None = None,
    trigger: str = "deployment",
    as_of: datetime | None = None,
) -> dict:
    """Scan one city; fail the run when the city's scan failed."""
    summary = scan_cities(cities_file, [city], "rescan", trigger, as_of)[city]
    if summary["status"] == "failed":
        raise CityScanFailed({city: summary})
    return summary
