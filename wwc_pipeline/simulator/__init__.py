"""The portal simulator: each platform's real API shapes on loopback, for tests, the demo, benchmarks.

    with PortalSimulator() as sim:
        portal = sim.add_portal(platform="socrata", catalog=GeneratedCatalog(size=300, seed=1),
                                faults=Faults(status_429_first_n=1, retry_after_s=0))
        portal.url, portal.domain, portal.requests

Platforms: "socrata", "ckan", "dcat", "opendatasoft". Catalogs: `GeneratedCatalog` (seeded,
deterministic; `touch`/`add`/`remove` change it between runs) or `RecordedCatalog(path)` (a real
recorded file replayed). `GeneratedCatalog(share_dirty=...)` plants known row defects in a share
of the datasets (ground truth on `entry.planted_defects`, see `defects.py`); the others' rows
are clean. Limits and fault rules: see the platform modules and `faults.py`.
"""

from wwc_pipeline.simulator.catalog import GeneratedCatalog, RecordedCatalog
from wwc_pipeline.simulator.faults import Faults
from wwc_pipeline.simulator.requestlog import LoggedRequest, RequestLog
from wwc_pipeline.simulator.server import PortalSimulator, SimulatedPortal

__all__ = [
    "Faults",
    "GeneratedCatalog",
    "LoggedRequest",
    "PortalSimulator",
    "RecordedCatalog",
    "RequestLog",
    "SimulatedPortal",
]
