"""`wwc demo`: simulated cities on loopback, the nightly flow over them, reports for each.

Offline by design: every portal is the project's simulator on 127.0.0.1.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

from wwc_pipeline.simulator import Faults, GeneratedCatalog, PortalSimulator
from wwc_pipeline.simulator import vocabulary as vocab


@dataclass(frozen=True)
class DemoPortal:
    platform: str
    size: int
    share_stale: float
    share_missing_metadata: float
    share_dirty: float  # datasets whose rows carry planted defects (TAKESTOCK-QUALITY)
    include_policy: bool = True
    key_datasets: tuple[str, ...] = ()  # key dataset types published (simulator vocabulary.KEY_DATASETS)


ALL_KEY_DATASETS = tuple(vocab.KEY_DATASETS)
# Springfield's rows are clean (TAKESTOCK-QUALITY 100); every other city has some dirty datasets.
DEMO_CITIES: dict[str, tuple[str, list[DemoPortal]]] = {
    "springfield": (
        "City of Springfield",
        [DemoPortal("socrata", 1200, 0.10, 0.05, 0.0, key_datasets=ALL_KEY_DATASETS)],
    ),
    "capital-city": (
        "Capital City",
        [DemoPortal("socrata", 400, 0.30, 0.20, 0.25, key_datasets=ALL_KEY_DATASETS[:10])],
    ),
    "shelbyville": (
        "City of Shelbyville",
        [
            DemoPortal(
                "socrata",
                120,
                0.60,
                0.45,
                0.6,
                include_policy=False,
                key_datasets=("budget", "crime", "service_requests"),
            )
        ],
    ),
    "ogdenville": (
        "Ogdenville",
        [DemoPortal("ckan", 300, 0.20, 0.15, 0.15, key_datasets=ALL_KEY_DATASETS[::2])],
    ),
    "north-haverbrook": (  # two portals: the city's key datasets are the best of both
        "North Haverbrook",
        [
            DemoPortal("dcat", 250, 0.25, 0.10, 0.3, key_datasets=ALL_KEY_DATASETS[:6]),
            DemoPortal("opendatasoft", 150, 0.15, 0.10, 0.3, key_datasets=ALL_KEY_DATASETS[4:12]),
        ],
    ),
}


def start_demo_portals(
    simulator: PortalSimulator, as_of: datetime, with_down_city: bool = False, scale: float = 1.0
) -> dict:
    """Add every demo portal to the simulator; return the cities.yaml data pointing at them.

    `with_down_city` adds "brockway", whose portal answers 503 to everything (a city that is down).
    """
    cities = []
    for seed, (city_id, (name, portals)) in enumerate(DEMO_CITIES.items(), start=1):
        entries = []
        for offset, spec in enumerate(portals):
            catalog = GeneratedCatalog(
                size=max(10, round(spec.size * scale)),
                seed=seed * 10 + offset,
                share_stale=spec.share_stale,
                share_missing_metadata=spec.share_missing_metadata,
                name=name,
                as_of=as_of,
                include_policy=spec.include_policy,
                key_datasets=spec.key_datasets,
                share_dirty=spec.share_dirty,
            )
            portal = simulator.add_portal(platform=spec.platform, catalog=catalog)
            entries.append({"platform": spec.platform, "url": portal.url})
        cities.append({"id": city_id, "name": name, "portals": entries})
    if with_down_city:
        down = simulator.add_portal(
            platform="socrata", catalog=GeneratedCatalog(size=50, as_of=as_of), faults=Faults(down=True)
        )
        cities.append(
            {"id": "brockway", "name": "Brockway", "portals": [{"platform": "socrata", "url": down.url}]}
        )
    return {"schedule": {"cron": "0 2 * * *", "timezone": "UTC"}, "cities": cities}


def run_demo(out: Path, run_nightly: Callable[..., dict], scale: float = 1.0) -> dict:
    """Run the demo into `out`; `run_nightly(**nightly_flow_kwargs)` runs the nightly flow.

    `scale` shrinks or grows every simulated catalog (the tests use a small one).
    """
    from wwc_pipeline.reports import overall_line, render_index, write_report
    from wwc_pipeline.warehouse import Warehouse

    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ["WWC_DATA_DIR"] = str(out)
    os.environ["WWC_DATABASE_URL"] = f"sqlite:///{out / 'warehouse.db'}"
    as_of = datetime.now(UTC)
    with PortalSimulator() as simulator:
        cities_file = out / "cities.yaml"
        cities_file.write_text(
            yaml.safe_dump(start_demo_portals(simulator, as_of, scale=scale), sort_keys=False)
        )
        summaries = run_nightly(cities_file=str(cities_file), trigger="demo", kind="demo", as_of=as_of)
    warehouse = Warehouse()
    entries = []
    for city_id, summary in summaries.items():
        report = warehouse.city_report(city_id, summary["run_id"])
        path = write_report(report, "html", None)
        entries.append(
            {
                "city_id": city_id,
                "city_name": report["city"]["name"],
                "run_id": summary["run_id"],
                "status": summary["status"],
                "overall": overall_line(report),
                "path": str(path),
            }
        )
    index = out / "index.html"
    # links relative to the index, so the folder can be moved or shared as it is
    relative = [{**entry, "path": os.path.relpath(entry["path"], out)} for entry in entries]
    index.write_text(render_index(relative))
    return {"warehouse": str(out / "warehouse.db"), "cities": entries, "index": str(index)}


def serve_simulated_cities(cities_file: Path, with_down_city: bool, announce: Callable[[str], None]) -> None:
    """Serve the demo's simulated portals until interrupted, with a cities file pointing at them."""
    import time

    with PortalSimulator() as simulator:
        config = start_demo_portals(simulator, datetime.now(UTC), with_down_city)
        cities_file.write_text(yaml.safe_dump(config, sort_keys=False))
        for city in config["cities"]:
            for portal in city["portals"]:
                announce(f"{city['id']:<18} {portal['platform']:<13} {portal['url']}")
        announce(f"cities file: {cities_file}  (use: wwc nightly --config {cities_file}); Ctrl-C stops")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            announce("stopped")
