"""How the portal driver hands catalogs between Prefect tasks (issue 14: CPU per dataset)."""

from __future__ import annotations

from prefect.utilities.annotations import opaque
from wwc_pipeline.flows.portal_driver import PortalDriver

from wwc_pipeline.config import Concurrency, load_criteria


def test_in_threads_catalogs_pass_opaque_so_prefect_does_not_walk_every_record() -> None:
    records = [object() for _ in range(3)]
    driver = PortalDriver(Concurrency(task_runner="threads", host_tags=False), load_criteria())
    handed = driver._whole(records)
    assert isinstance(handed, opaque) and handed.unwrap() is records


def test_on_dask_futures_pass_bare_for_dask_to_resolve() -> None:
    records = [object()]
    driver = PortalDriver(Concurrency(task_runner="dask", host_tags=False), load_criteria())
    assert driver._whole(records) is records
