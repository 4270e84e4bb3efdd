"""Where the national simulator's portals live, and the cities file that points at them.

Portal i listens on its own loopback address (127.0.1.1, 127.0.1.2, ... ; 127.0.0.x stays free
for the ordinary simulator and the tests), so the cities file of a plan follows from the plan and
the port alone: `wwc simulate --national N` writes it before serving.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from wwc_pipeline.simulator.national_plan import NationalPlan

FIRST_ADDRESS = (1, 1)  # 127.0.1.1
MAX_PORTALS = 10_000  # a listening socket each, and their connections: open files run out beyond


def portal_address(index: int) -> str:
    """Portal `index`'s loopback address: 127.0.1.1 ... 127.0.1.254, 127.0.2.1, ..."""
    third, fourth = divmod(index, 254)
    third += FIRST_ADDRESS[0]
    if third > 255:
        raise ValueError(f"portal {index} has no loopback address left (at most {254 * 255} portals)")
    return f"127.0.{third}.{fourth + FIRST_ADDRESS[1]}"


def cities_document(
    plan: NationalPlan,
    urls: dict[int, str],
    portal_options: Mapping[str, Any] | None = None,
    concurrency: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """cities.yaml data for the plan, each portal at `urls[index]` with `portal_options` added
    (e.g. settings that turn content or link checks off), and `concurrency` settings when given."""
    options = dict(portal_options or {})
    cities = [
        {
            "id": city.id,
            "name": city.name,
            "portals": [
                {"platform": plan.portals[i].platform, "url": urls[i], **options} for i in city.portals
            ],
        }
        for city in plan.cities
    ]
    document: dict[str, Any] = {"schedule": {"cron": "0 2 * * *", "timezone": "UTC"}}
    if concurrency:
        document["concurrency"] = dict(concurrency)
    return {**document, "cities": cities}


def write_cities_file(
    path: Path | str,
    plan: NationalPlan,
    port: int,
    portal_options: Mapping[str, Any] | None = None,
    concurrency: Mapping[str, Any] | None = None,
) -> Path:
    """Write the cities file of a national plan served on `port` (see `portal_address`)."""
    urls = {spec.index: f"http://{portal_address(spec.index)}:{port}" for spec in plan.portals}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = f"# National simulator: {len(plan.portals)} portals, {plan.datasets} datasets, seed {plan.seed}.\n"
    document = cities_document(plan, urls, portal_options, concurrency)
    path.write_text(text + yaml.safe_dump(document, sort_keys=False))
    return path


def serve_national(
    out: Path,
    plan: NationalPlan,
    latency_s: float,
    port: int | None,
    say: Callable[[str], None],
    concurrency: Mapping[str, Any] | None = None,
) -> None:
    """Serve `plan` in the foreground until Ctrl-C, its cities file written to `out` first."""
    from wwc_pipeline.simulator.national import NationalSimulator

    with NationalSimulator(plan, latency_s=latency_s, port=port) as simulator:
        simulator.write_cities_file(out, concurrency=concurrency)
        platforms = ", ".join(f"{count} {name}" for name, count in sorted(plan.by_platform().items()))
        say(
            f"{len(plan.portals)} portals ({platforms}), {plan.datasets} datasets, "
            f"{len(plan.cities)} cities, "
            f"on 127.0.1.1-{portal_address(len(plan.portals) - 1)} port {simulator.port}, "
            f"{latency_s * 1000:g} ms a request"
        )
        say(f"cities file: {out}  (try: wwc nightly --config {out})")
        say("Ctrl-C stops the portals.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            say("stopped")
