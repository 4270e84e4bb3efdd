"""How the portal driver hands catalogs between Prefect tasks (issue 14: CPU per dataset)."""

from __future__ import annotations

from collections import deque
from types import SimpleNamespace

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


def test_portals_whose_last_harvest_read_most_pages_start_first() -> None:
    """A big catalog's pages follow one another: started last it was the whole run's tail (a 63-page
    OpenDataSoft catalog ended a 25 % re-run 3.6 s after every other portal). Never-harvested
    portals (size unknown) go first; equals keep the cities file's order."""
    jobs = [job("a", "one"), job("a", "two"), job("b", "three"), job("b", "new"), job("c", "four")]
    last = {"a one": (1, 10), "a two": (63, 6_000), "b three": (5, 50), "c four": (5, 40)}
    driver = PortalDriver(SETTINGS, load_criteria(), last_harvests=last)
    order = ["b new", "a two", "b three", "c four", "a one"]
    assert [j.label for j in driver.longest_first(jobs)] == order
    assert PortalDriver(SETTINGS, load_criteria()).longest_first(jobs) == jobs  # a first run


def test_one_big_catalog_at_a_time_and_small_ones_beside_it() -> None:
    """The budget counts a catalog once harvested: longest first, the biggest all started at once
    (a full-size re-run peaked at 1,511 MB). A catalog of more than half the budget, by its last
    harvest, waits while another such one is under way; the small ones go on beside it."""
    budget = SETTINGS.datasets_in_flight
    last = {"a big": (40, budget), "b big": (30, budget), "c small": (20, 10), "d small": (10, 10)}
    driver = PortalDriver(SETTINGS, load_criteria(), last_harvests=last)
    pending = deque(driver.longest_first([job(*label.split()) for label in last]))
    assert driver._take(pending).label == "a big"  # no big one under way
    driver._active["a big"] = None  # under way, not harvested yet: its last size counts
    assert driver._take(pending).label == "c small"
    assert driver._take(pending).label == "d small"
    assert driver._take(pending) is None and [j.label for j in pending] == ["b big"]
    del driver._active["a big"]
    assert driver._take(pending).label == "b big"
    driver._harvested["b big"] = 10  # harvested smaller this time: no longer big
    pending.extend([job("e", "big2")])
    driver.last_harvests["e big2"] = (9, budget)
    assert driver._take(pending).label == "e big2"


SETTINGS = Concurrency(task_runner="threads", host_tags=False)


def job(city: str, url: str) -> SimpleNamespace:
    return SimpleNamespace(label=f"{city} {url}")
