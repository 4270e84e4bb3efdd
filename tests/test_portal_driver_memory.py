"""What a nightly keeps of a portal once it is done: nothing but its summary (issue 14, memory).

The driver hands a scored city's evidence to its scores task, drops what the portal's steps
parked and trims the heap; the steps park catalogs in threads, pass them as they are on Dask."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from wwc_pipeline.flows import handoff, portal_driver
from wwc_pipeline.flows.portal_driver import PortalDriver

from wwc_pipeline import collector
from wwc_pipeline.config import Concurrency, PortalConfig, load_criteria
from wwc_pipeline.portal_steps import PortalDone, PortalJob
from wwc_pipeline.scoring import DatasetOutcome, PortalEvidence


@pytest.fixture(autouse=True)
def nothing_parked_after():
    """Each test starts and ends with nothing parked (a scored city's evidence waits for its
    scores task, which the stand-in below never runs)."""
    yield
    for label in handoff.parked_labels():
        handoff.release(label)


class _Scores:
    """Stands in for the scores task: keeps what each city's scores were submitted with."""

    def __init__(self) -> None:
        self.submitted: dict[str, list[PortalDone]] = {}
        self.passed: dict[str, Any] = {}  # what the task itself would receive

    def submit(self, city_id: str, _run_id: int, ordered: Any, *_rest: Any) -> str:
        self.passed[city_id] = ordered
        self.submitted[city_id] = handoff.claim(ordered.unwrap() if hasattr(ordered, "unwrap") else ordered)
        return f"scores of {city_id}"


class _InlineDriver(PortalDriver):
    """The driver's bookkeeping with each portal's chain 'done' at once (no Prefect tasks)."""

    def _submit(self, job: PortalJob) -> None:
        self._active[job.label] = (job, None, None, None)
        self._finished.put(job.label)

    def _collect(self, label: str) -> PortalDone:
        job = self._active.pop(label)[0]
        outcome = DatasetOutcome(f"{job.portal.url}/1", "a dataset", {"fresh": True})
        return PortalDone(job.portal.url, PortalEvidence(job.portal.url, True, datasets=[outcome]), 1)


def _jobs(city_id: str, portals: int) -> list[PortalJob]:
    as_of = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        PortalJob(city_id, city_id, 1, PortalConfig(platform="dcat", url=f"http://{city_id}-{n}.test"), as_of)
        for n in range(portals)
    ]


def _driver(monkeypatch) -> tuple[_InlineDriver, _Scores, list[int]]:
    scores, trims = _Scores(), []
    monkeypatch.setattr(portal_driver, "score_city_task", scores)
    monkeypatch.setattr(portal_driver.collector, "give_back_freed_memory", lambda: trims.append(1))
    settings = Concurrency(task_runner="threads", host_tags=False, portals=1)
    return _InlineDriver(settings, load_criteria()), scores, trims


def test_a_scored_city_hands_its_evidence_to_its_scores_task_and_the_driver_keeps_none(monkeypatch):
    driver, scores, _ = _driver(monkeypatch)
    cities = {"alpha": _jobs("alpha", 3), "beta": _jobs("beta", 1)}
    done, futures = driver.portals(cities)
    assert done == {} and set(futures) == {"alpha", "beta"}
    assert [portal.url for portal in scores.submitted["alpha"]] == [job.portal.url for job in cities["alpha"]]
    assert scores.submitted["beta"][0].evidence.datasets[0].dataset_id == "http://beta-0.test/1"
    # in threads the evidence waits parked (Prefect's task context outlives the task); the
    # scores task releases it, and so does the end of the run for a task that never ran
    assert all(isinstance(passed, handoff.Parked) for passed in scores.passed.values())
    assert handoff.scores_key(1, "alpha") in handoff.parked_labels()
    for city_id in cities:
        handoff.release(handoff.scores_key(1, city_id))


def test_without_scoring_every_portal_stays_for_the_caller(monkeypatch):
    driver, scores, _ = _driver(monkeypatch)
    done = driver.collect_only({"alpha": _jobs("alpha", 2)})
    assert sorted(done["alpha"]) == ["http://alpha-0.test", "http://alpha-1.test"] and not scores.submitted


def test_the_heap_is_trimmed_once_per_portal_done(monkeypatch):
    driver, _, trims = _driver(monkeypatch)
    driver.portals({"alpha": _jobs("alpha", 2), "beta": _jobs("beta", 3)})
    assert len(trims) == 5


def test_parked_values_are_claimed_by_key_and_dropped_per_portal():
    snapshot, outcome, other = object(), object(), object()
    label = "c1 http://a.test"
    keys = [handoff.park(label, "snapshot", snapshot), handoff.park(label, "outcome", outcome)]
    kept = handoff.park("c1 http://b.test", "snapshot", other)
    assert [handoff.claim(key) for key in keys] == [snapshot, outcome] and handoff.claim(other) is other
    handoff.release(label)
    assert label not in handoff.parked_labels() and handoff.claim(kept) is other
    handoff.release("c1 http://b.test")


def test_in_threads_a_step_parks_its_value_on_dask_it_returns_it(monkeypatch):
    from wwc_pipeline.flows import portal_tasks

    job = _jobs("gamma", 1)[0]
    value = object()
    parked = portal_tasks._hand_over(job, "snapshot", value, Concurrency(task_runner="threads"))
    assert isinstance(parked, handoff.Parked) and handoff.claim(parked) is value
    assert parked.label == handoff.key_of(job) == f"1 {job.label}"
    assert portal_tasks._hand_over(job, "snapshot", value, Concurrency(task_runner="dask")) is value
    handoff.release(handoff.key_of(job))


def test_the_driver_drops_what_a_collected_portal_parked(monkeypatch):
    driver, _, _ = _driver(monkeypatch)
    jobs = _jobs("delta", 2)
    other_run = PortalJob("delta", "delta", 2, jobs[0].portal, jobs[0].as_of)
    for job in [*jobs, other_run]:
        handoff.park(handoff.key_of(job), "snapshot", object())
    driver.portals({"delta": jobs})
    scores = handoff.scores_key(1, "delta")  # the city's evidence, parked for its scores task
    assert handoff.parked_labels() == {handoff.key_of(other_run), scores}  # another run's stays
    handoff.release(handoff.key_of(other_run))
    handoff.release(scores)


def test_giving_back_freed_memory_runs_where_there_is_no_malloc_trim_too():
    collector.give_back_freed_memory()  # glibc: malloc_trim(0); elsewhere nothing


def test_a_run_that_stops_half_way_leaves_nothing_parked(monkeypatch):
    driver, _, _ = _driver(monkeypatch)
    jobs = _jobs("omega", 3)
    for job in jobs:
        handoff.park(handoff.key_of(job), "snapshot", object())

    def broken(_label: str) -> PortalDone:
        raise RuntimeError("the flow stopped")

    monkeypatch.setattr(driver, "_collect", broken)
    with pytest.raises(RuntimeError, match="stopped"):
        driver.portals({"omega": jobs})
    assert not {handoff.key_of(job) for job in jobs} & handoff.parked_labels()


class _SizedDriver(_InlineDriver):
    """Portals whose harvests leave known catalog sizes; notes what was in flight at each start."""

    def __init__(self, settings: Concurrency, sizes: dict[str, int]) -> None:
        super().__init__(settings, load_criteria())
        self.sizes = sizes
        self.started: list[tuple[str, int, int]] = []  # (url, portals under way, their datasets)

    def _submit(self, job: PortalJob) -> None:
        self.started.append((job.portal.url, len(self._active), self.datasets_in_flight()))
        super()._submit(job)
        self._harvested[job.label] = self.sizes[job.portal.url]


def test_no_portal_starts_while_the_datasets_under_way_reach_the_budget(monkeypatch):
    monkeypatch.setattr(portal_driver, "score_city_task", _Scores())
    monkeypatch.setattr(portal_driver.collector, "give_back_freed_memory", lambda: None)
    jobs = _jobs("alpha", 6)
    sizes = dict(zip([job.portal.url for job in jobs], [5000, 50, 7000, 10, 10, 20], strict=True))
    settings = Concurrency(task_runner="threads", host_tags=False, portals=4, datasets_in_flight=6000)
    driver = _SizedDriver(settings, sizes)
    driver.portals({"alpha": jobs})
    # 5,000 then 5,050 under way leave room; with the 7,000 one (12,050) nothing starts until all
    # three are done, though the window (8 portals) has room
    assert [(portals, datasets) for _, portals, datasets in driver.started] == [
        (0, 0),
        (1, 5000),
        (2, 5050),
        (0, 0),
        (1, 10),
        (2, 20),
    ]
    wide = _SizedDriver(settings.model_copy(update={"datasets_in_flight": 50_000}), sizes)
    wide.portals({"alpha": jobs})
    assert [portals for _, portals, _ in wide.started] == [0, 1, 2, 3, 4, 5]  # the window alone


class _Harvest:
    def __init__(self, value: Any) -> None:
        self.value = value

    def result(self, raise_on_failure: bool = True) -> Any:
        if isinstance(self.value, Exception):
            raise self.value
        return self.value


def test_a_harvest_is_counted_by_the_records_it_parked_and_a_failed_one_as_none():
    driver = PortalDriver(Concurrency(task_runner="threads", host_tags=False), load_criteria())
    snapshot = type("Snapshot", (), {"records": [object()] * 3})()
    parked = handoff.park("1 a", "snapshot", snapshot)
    driver._active.update({"a": (None, None, None, None), "b": (None, None, None, None)})
    driver._note_size("a", _Harvest(parked))
    driver._note_size("b", _Harvest(RuntimeError("portal down")))
    assert driver.datasets_in_flight() == 3 and driver._harvested == {"a": 3, "b": 0}
    handoff.release("1 a")
