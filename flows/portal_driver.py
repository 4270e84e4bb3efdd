"""Run portals through their tasks and close each city when its last portal is done.

For each portal: harvest -> evaluate -> write, submitted together (Prefect passes the futures);
at most `window` portals are under way at once, so memory holds a bounded number of catalogs
whatever the size of the nation. A portal whose task failed is recorded as failed (only its own
tasks fail); when every portal of a city is done, its scores task runs and takes the city's
evidence with it. Once a portal is collected nothing of it is kept but its `PortalDone` (its
parked catalog is dropped, the heap trimmed): memory follows the portals in flight, not the
nation (benchmarks/README.md section 7).
"""

from __future__ import annotations

import queue
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from typing import Any

from prefect import tags
from prefect.utilities.annotations import opaque
from wwc_pipeline.flows import handoff
from wwc_pipeline.flows.portal_tasks import (
    evaluate_task,
    harvest_task,
    host_tag,
    one_writer,
    resources,
    score_city_task,
    write_task,
)

from wwc_pipeline import collector, portal_steps
from wwc_pipeline.config import Concurrency, CriteriaConfig
from wwc_pipeline.incremental import DeferredReplay
from wwc_pipeline.pipeline import one_line
from wwc_pipeline.portal_steps import PortalDone, PortalJob
from wwc_pipeline.prefect_local import on_temporary_server


def _first_error(futures: Sequence[Any]) -> BaseException | str:
    for future in futures:
        state = future.state
        if state.is_failed() or state.is_crashed() or state.is_cancelled():
            try:
                error = future.result(raise_on_failure=False)
            except Exception as raised:  # noqa: BLE001 - whatever it was, it is the reason
                error = raised
            return error if isinstance(error, BaseException) else (state.message or "failed")
    return "did not finish"


def _as_is(value: Any) -> Any:
    return value


def uses_host_tags(settings: Concurrency) -> bool:
    """`host:` tags on harvest tasks: as configured, else only on a lasting Prefect server (an
    operator's limits live there; the temporary server holds none, and every tagged task run
    takes and gives back a slot through it: measured, 10-25 s stalls and one portal failed on a
    busy temporary server at 85 portals)."""
    return settings.host_tags if settings.host_tags is not None else not on_temporary_server()


class PortalDriver:
    """Submits portal chains, collects what they leave, submits each city's scores once."""

    def __init__(
        self,
        settings: Concurrency,
        criteria: CriteriaConfig,
        window: int | None = None,
        last_harvests: Mapping[str, tuple[int, int]] | None = None,
    ) -> None:
        self.settings = settings
        self.criteria = criteria
        self.window = window or 2 * settings.portals
        # job label -> (catalog pages, records) of its last harvest: the order, and the budget
        self.last_harvests = last_harvests or {}
        self._finished: queue.Queue[str] = queue.Queue()
        self._active: dict[str, tuple[PortalJob, Any, Any, Any]] = {}
        self._harvested: dict[str, int] = {}  # label -> datasets its harvest left (threads runner)
        # A snapshot's records and an outcome's check results are hundreds of thousands of small
        # objects: Prefect walks every task parameter looking for futures (about half the CPU of
        # a nightly, measured), so in threads they pass `opaque` (resolved, never walked). Dask
        # futures must be seen to be resolved on the workers: there they pass as they are. The
        # job and the settings (pydantic models, every field walked twice a task: at submit and
        # at start) hold no future: in threads they pass `opaque` too.
        self._whole: Callable[[Any], Any] = opaque if settings.task_runner == "threads" else _as_is
        self._plain = self._whole(settings)
        self._criteria = self._whole(criteria)
        self.host_tags = uses_host_tags(settings)
        # the run's retry settings, made into a task once, not once a portal (`with_options`
        # builds a new Task and its key from the function's source: 0.8 ms each, measured)
        self._harvest = harvest_task.with_options(
            retries=settings.portal_retries, retry_delay_seconds=settings.portal_retry_delay_s
        )

    def _submit(self, job: PortalJob) -> None:
        whole, settings = self._whole, self._plain
        plain_job = whole(job)
        with tags(host_tag(job)) if self.host_tags else nullcontext():
            harvest = self._harvest.submit(plain_job, settings)
        evaluate = evaluate_task.submit(plain_job, whole(harvest), settings)
        task_runs = {"harvest": str(harvest.task_run_id), "evaluate": str(evaluate.task_run_id)}
        write = write_task.submit(plain_job, whole(harvest), whole(evaluate), settings, whole(task_runs))
        self._active[job.label] = (job, harvest, evaluate, write)
        if self.settings.task_runner == "threads":  # on Dask the catalogs are the workers' memory
            harvest.add_done_callback(lambda future, label=job.label: self._note_size(label, future))
        write.add_done_callback(lambda _future, label=job.label: self._finished.put(label))

    def _note_size(self, label: str, harvest: Any) -> None:
        try:
            snapshot = handoff.claim(harvest.result(raise_on_failure=False))
            # a deferred replay's records are rebuilt in the replay worker, not in this process
            self._harvested[label] = 0 if isinstance(snapshot, DeferredReplay) else len(snapshot.records)
        except Exception:  # noqa: BLE001 - a failed harvest holds no catalog
            self._harvested[label] = 0

    def datasets_in_flight(self) -> int:
        return sum(self._harvested.get(label, 0) for label in list(self._active))

    def _room(self) -> bool:
        """Another portal may start: none is under way, or their datasets are under the budget."""
        return not self._active or self.datasets_in_flight() < self.settings.datasets_in_flight

    def _big(self, label: str) -> bool:
        """A catalog of more than half the budget (harvested, or by its last harvest)."""
        size = self._harvested.get(label, self.last_harvests.get(label, (0, 0))[1])
        return 2 * size > self.settings.datasets_in_flight

    def _take(self, pending: deque[PortalJob]) -> PortalJob | None:
        """The next portal to start: the first pending one, unless it is big while another big
        one is under way (the budget counts a catalog only once harvested: the biggest started at
        once held them all at the same time); then the first small one, else none for now."""
        if not any(self._big(label) for label in self._active):
            return pending.popleft()
        for index, job in enumerate(pending):
            if not self._big(job.label):
                del pending[index]
                return job
        return None

    def _collect(self, label: str) -> PortalDone:
        job, harvest, evaluate, write = self._active.pop(label)
        self._harvested.pop(label, None)
        try:
            return write.result()
        except Exception:  # noqa: BLE001 - the reason is the failed task's, read below
            pass
        _, warehouse, _ = resources(self.settings)
        ids = {"harvest": harvest.task_run_id, "evaluate": evaluate.task_run_id, "write": write.task_run_id}
        task_runs = {step: str(task_run_id) for step, task_run_id in ids.items()}
        with one_writer(warehouse):
            return portal_steps.fail(job, _first_error((harvest, evaluate, write)), warehouse, task_runs)

    def portals(
        self, cities: dict[str, list[PortalJob]], score: bool = True
    ) -> tuple[dict[str, dict[str, PortalDone]], dict[str, Any]]:
        """Every portal's chain; city id -> url -> what it left, and (with `score`) the futures
        of each city's scores task, submitted as soon as its last portal was done. A scored
        city's portals go to its scores task and leave the first mapping."""
        pending = deque(self.longest_first([job for jobs in cities.values() for job in jobs]))
        done: dict[str, dict[str, PortalDone]] = {city_id: {} for city_id in cities}
        scores: dict[str, Any] = {}
        try:
            while pending or self._active:
                while pending and len(self._active) < self.window and self._room():
                    job = self._take(pending)
                    if job is None:
                        break
                    self._submit(job)
                job = self._active[self._finished.get()][0]
                done[job.city_id][job.portal.url] = self._collect(job.label)
                handoff.release(handoff.key_of(job))  # its catalog and results are free now,
                collector.give_back_freed_memory()  # and so is the heap they took
                city_jobs = cities[job.city_id]
                if score and len(done[job.city_id]) == len(city_jobs):
                    by_url = done.pop(job.city_id)  # the evidence goes with the scores task
                    ordered = [by_url[portal.portal.url] for portal in city_jobs]
                    scores[job.city_id] = score_city_task.submit(
                        job.city_id, job.run_id, self._evidence(job, ordered), self._criteria, self._plain
                    )
        finally:  # a run that stopped half way leaves nothing parked in a lasting process
            for jobs in cities.values():
                for job in jobs:
                    handoff.release(handoff.key_of(job))
        return done, scores

    def longest_first(self, jobs: list[PortalJob]) -> list[PortalJob]:
        """The portals whose last harvest read the most catalog pages first (pages follow one
        another, a round trip each: a big catalog started last was the whole run's tail), those
        never harvested before them (their size unknown); else in the cities file's order."""
        unknown = float("inf")
        return sorted(jobs, key=lambda job: -self.last_harvests.get(job.label, (unknown, 0))[0])

    def _evidence(self, job: PortalJob, ordered: list[PortalDone]) -> Any:
        """A city's evidence for its scores task: parked in threads (the task releases it when
        scored; Prefect's task context outlives the task), as it is on Dask."""
        if self.settings.task_runner != "threads":
            return ordered
        return handoff.park(handoff.scores_key(job.run_id, job.city_id), "done", ordered)

    def collect_only(self, cities: dict[str, list[PortalJob]]) -> dict[str, dict[str, PortalDone]]:
        """Every portal's chain, without scoring (a retry scores with the other portals too)."""
        return self.portals(cities, score=False)[0]

    def run(self, cities: dict[str, list[PortalJob]]) -> dict[str, dict[str, Any]]:
        """city id -> its summary, once every portal and every city is done."""
        _, scores = self.portals(cities)
        summaries: dict[str, dict[str, Any]] = {}
        for city_id, future in scores.items():
            try:
                summaries[city_id] = future.result()
            except Exception as error:  # noqa: BLE001 - one city's scores failing is that city's
                run_id = cities[city_id][0].run_id
                reason = one_line(error)
                summaries[city_id] = {
                    "city_id": city_id,
                    "run_id": run_id,
                    "status": "failed",
                    "error": reason,
                }
                _, warehouse, _ = resources(self.settings)
                warehouse.finish_run(run_id, "failed", reason)
            finally:  # a scores task that never ran leaves nothing parked
                handoff.release(handoff.scores_key(cities[city_id][0].run_id, city_id))
        return summaries
