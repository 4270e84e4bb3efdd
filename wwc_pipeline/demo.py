"""`wwc demo`: simulated cities on loopback, the nightly flow over them, reports for each.

Offline by design: every portal is the project's simulator on 127.0.0.1.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
DEMO_NIGHTS = 3  # runs per city, one simulated night apart: enough for a trend
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
    simulator: PortalSimulator,
    as_of: datetime,
    with_down_city: bool = False,
    scale: float = 1.0,
    base_port: int | None = None,
    catalogs: dict[str, list[GeneratedCatalog]] | None = None,
) -> dict:
    """Add every demo portal to the simulator; return the cities.yaml data pointing at them.

    `with_down_city` adds "brockway", whose portal answers 503 to everything (a city that is down).
    `base_port`: the portals listen on base_port, base_port + 1, ... (None: any free ports).
    `catalogs`, when given, is filled with each city's generated catalogs (to age them later).
    """
    ports = itertools.count(base_port) if base_port is not None else itertools.repeat(0)

    def add(platform: str, catalog: GeneratedCatalog, faults: Faults | None = None):
        port = next(ports)
        try:
            return simulator.add_portal(platform=platform, catalog=catalog, faults=faults, port=port)
        except OSError as error:
            if port == 0:
                raise
            raise ValueError(
                f"cannot listen on 127.0.0.1:{port} ({error.strerror}); pick another --port"
            ) from None

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
            portal = add(spec.platform, catalog)
            if catalogs is not None:
                catalogs.setdefault(city_id, []).append(catalog)
            entries.append({"platform": spec.platform, "url": portal.url})
        cities.append({"id": city_id, "name": name, "portals": entries})
    if with_down_city:
        down = add("socrata", GeneratedCatalog(size=50, as_of=as_of), Faults(down=True))
        cities.append(
            {"id": "brockway", "name": "Brockway", "portals": [{"platform": "socrata", "url": down.url}]}
        )
    return {"schedule": {"cron": "0 2 * * *", "timezone": "UTC"}, "cities": cities}


# What changes on a city's portals between two simulated nights, as shares of each catalog:
# datasets updated (their data and metadata modified that night), added, removed. Shelbyville
# catches up on its stale data, so its trend climbs.
AGEING = {"touched": 0.02, "added": 0.01, "removed": 0.005}
CATCHING_UP = {"shelbyville": 0.12}


def age_catalogs(catalogs: dict[str, list[GeneratedCatalog]], night: int, at: datetime) -> None:
    """One simulated night of portal life: some datasets updated, a few added, a few removed."""
    for city_id, city_catalogs in catalogs.items():
        for catalog in city_catalogs:
            size = len(catalog.datasets)
            touched = CATCHING_UP.get(city_id, AGEING["touched"])
            catalog.touch(max(1, round(size * touched)), at=at, seed=night)
            catalog.add(max(1, round(size * AGEING["added"])), at=at)
            catalog.remove(max(1, round(size * AGEING["removed"])), seed=night)


def demo_nights(nights: int, now: datetime) -> list[datetime]:
    """The as-of times of the demo's runs: one a day, the last one now."""
    return [now - timedelta(days=nights - 1 - night) for night in range(nights)]


def run_demo(
    out: Path,
    run_nightly: Callable[..., dict],
    scale: float = 1.0,
    nights: int = DEMO_NIGHTS,
    around: Callable[[Callable[[], dict]], dict] = lambda work: work(),
) -> dict:
    """Run the demo into `out`: `nights` nightly runs over simulated portals that age between
    them (as-of times one day apart, the last one now), then every city's reports and the index.

    `run_nightly(**nightly_flow_kwargs)` runs the nightly flow once; `around(work)` runs `work`
    inside whatever the flows need (the CLI: Prefect's API, started once for all nights).
    `scale` shrinks or grows every simulated catalog (the tests use a small one).
    """
    from wwc_pipeline.reports.bundle import write_all_reports
    from wwc_pipeline.warehouse import Warehouse

    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ["WWC_DATA_DIR"] = str(out)
    os.environ["WWC_DATABASE_URL"] = f"sqlite:///{out / 'warehouse.db'}"
    times = demo_nights(nights, datetime.now(UTC))
    catalogs: dict[str, list[GeneratedCatalog]] = {}
    with PortalSimulator() as simulator:
        cities_file = out / "cities.yaml"
        config = start_demo_portals(simulator, times[0], scale=scale, catalogs=catalogs)
        cities_file.write_text(yaml.safe_dump(config, sort_keys=False))

        def every_night() -> dict:
            summaries: dict = {}
            for night, as_of in enumerate(times):
                if night:
                    age_catalogs(catalogs, night, as_of)
                summaries = run_nightly(
                    cities_file=str(cities_file), trigger="demo", kind="demo", as_of=as_of
                )
            return summaries

        summaries = around(every_night)
    written = write_all_reports(Warehouse(), out, list(summaries))
    return {"warehouse": str(out / "warehouse.db"), "nights": nights, **written}


def serve_simulated_cities(
    cities_file: Path,
    with_down_city: bool,
    announce: Callable[[str], None],
    base_port: int | None = None,
) -> None:
    """Serve the demo's simulated portals until interrupted, with a cities file pointing at them."""
    import time

    with PortalSimulator() as simulator:
        config = start_demo_portals(simulator, datetime.now(UTC), with_down_city, base_port=base_port)
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
