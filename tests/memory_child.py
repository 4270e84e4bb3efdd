"""Run one hostile-portal scenario and print what happened and this process's peak RSS (JSON).

`python -m tests.memory_child SCENARIO [MB]`: run by tests/test_memory.py in a fresh process, so
that `ru_maxrss` is this scenario's own peak. Scenarios: a gzip bomb of MB MiB on each path the
project fetches (a DCAT feed, a Socrata catalog page, a row sample, a link probe, a redirect a
link probe follows), and a big feed of MB MiB harvested whole.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from wwc_pipeline.checks.links import links_reachable
from wwc_pipeline.connectors import socrata

from benchmarks.common import peak_rss_mb
from wwc_pipeline.config import PortalConfig
from wwc_pipeline.http import HttpClient
from wwc_pipeline.pipeline import harvest_portal
from wwc_pipeline.results import PortalContext
from wwc_pipeline.simulator import Faults, GeneratedCatalog, PortalSimulator

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def bomb(megabytes: int, paths: str, **more: object) -> Faults:
    return Faults(gzip_bomb_mb=megabytes, only_paths=(paths,), **more)


def run(scenario: str, megabytes: int) -> dict:
    outcome: dict = {}
    with PortalSimulator() as sim, HttpClient(min_interval=0, max_attempts=2, backoff=0.01) as client:
        platform = "socrata" if scenario in ("catalog-page", "rows") else "dcat"
        portal = sim.add_portal(platform, GeneratedCatalog(size=5, seed=1, as_of=AS_OF))
        config = PortalConfig(platform=platform, url=portal.url)
        records = harvest_portal(config, client).records  # clean, before any fault
        outcome["baseline_mb"] = peak_rss_mb()
        try:
            if scenario == "feed":
                portal.set_faults(bomb(megabytes, r"^/data\.json$"))
                outcome["result"] = f"{len(harvest_portal(config, client).records)} records"
            elif scenario == "catalog-page":
                portal.set_faults(bomb(megabytes, r"^/api/catalog/v1$"))
                outcome["result"] = f"{len(harvest_portal(config, client).records)} records"
            elif scenario == "rows":
                portal.set_faults(bomb(megabytes, r"^/resource/"))
                dataset = next(record for record in records if record.is_dataset)
                outcome["result"] = f"{len(socrata.sample_rows(config, client, dataset, 5))} rows"
            elif scenario in ("probe", "probe-redirect"):
                target = sim.add_portal("dcat", GeneratedCatalog(size=2, seed=2, as_of=AS_OF))
                redirect = {"redirect_to": target.url} if scenario == "probe-redirect" else {}
                portal.set_faults(bomb(megabytes, r"^/files/", refuse_head=True, **redirect))
                context = PortalContext("dcat", portal.domain, AS_OF, client=client, portal_config=config)
                summary = links_reachable(records, context)[0]
                outcome["result"] = f"{summary.value['probed']} links probed"
                outcome["gets"] = sum(1 for r in portal.requests if r.method == "GET" and "/files/" in r.path)
            else:
                raise SystemExit(f"unknown scenario {scenario!r}")
        except Exception as error:  # noqa: BLE001 - the outcome is what the test reads
            outcome["error"] = str(error)
    outcome["peak_mb"] = peak_rss_mb()
    return outcome


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 512)))
