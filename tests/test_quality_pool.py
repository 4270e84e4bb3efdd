"""Row quality validated in a worker process: the same evidence, in the same order; a dead worker
costs at most the sample that killed it, never the run."""

from __future__ import annotations

import os
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from wwc_pipeline.checks.content import content_quality

from tests.test_checks_content import CLEAN_ROWS, DIRTY_ROWS, FakeConnector, context, dataset
from tests.test_quality_planted import live_context
from wwc_pipeline.config import Concurrency, PortalConfig
from wwc_pipeline.http import HttpClient
from wwc_pipeline.model import Column
from wwc_pipeline.pipeline import harvest_portal
from wwc_pipeline.quality_pool import MAX_RESTARTS, QualityPool, validate_in_worker
from wwc_pipeline.results import Status
from wwc_pipeline.simulator import GeneratedCatalog, PortalSimulator

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)
DEADLY = "stop-the-worker"


def dies_on_marker(rules_json: str, as_of: datetime, rows: list[dict], schema: list[Column] | None) -> dict:
    """A worker's work that ends the worker process abruptly on rows carrying the marker."""
    if any(row.get("note") == DEADLY for row in rows):
        os._exit(3)
    return validate_in_worker(rules_json, as_of, rows, schema)


def evidence(results: list) -> list[tuple]:
    return [(r.check_id, r.status, r.value, r.reason, r.dataset_id) for r in results]


@pytest.fixture(scope="module")
def pool():
    with QualityPool(1) as shared:
        yield shared


@pytest.mark.parametrize("platform", ["socrata", "ckan"])
def test_planted_defects_give_the_same_evidence_with_and_without_the_worker(platform, pool):
    catalog = GeneratedCatalog(size=16, seed=1, as_of=AS_OF, share_dirty=0.5)
    with PortalSimulator() as sim, HttpClient(min_interval=0, backoff=0) as client:
        served = sim.add_portal(platform=platform, catalog=catalog)
        config = PortalConfig(platform=platform, url=served.url, sample_datasets=12, sample_rows=60)
        snapshot = harvest_portal(config, client)

        def check(row_validator):
            return content_quality(snapshot.records, live_context(config, client, row_validator))

        in_thread, in_worker = check(None), check(pool.validator)
    assert evidence(in_worker) == evidence(in_thread)
    assert in_thread[0].value["validated"] >= 8 and in_thread[0].value["defects"]  # defects were found


def rows_per_dataset() -> tuple[list, dict]:
    columns = [Column("ID"), Column("Notes"), Column("Count", datatype="number")]
    records = [dataset(f"d{n}", columns) for n in range(6)]
    rows = {f"d{n}": [dict(row) for row in (CLEAN_ROWS if n % 2 else DIRTY_ROWS)] for n in range(6)}
    return records, rows


def test_a_worker_that_dies_costs_only_the_sample_that_killed_it():
    records, rows = rows_per_dataset()
    healthy = content_quality(records, context(FakeConnector(rows), client=object(), sample_datasets=6))
    rows["d2"][0]["note"] = DEADLY
    with QualityPool(1, work=dies_on_marker) as pool:
        portal_context = context(FakeConnector(rows), client=object(), sample_datasets=6)
        portal_context.row_validator = pool.validator
        results = content_quality(records, portal_context)
        assert pool.restarts == 2  # the sample, and its one retry in a fresh worker
        by_id = {r.dataset_id: r for r in results[1:]}
        lost = by_id.pop("d2")
        assert lost.status is Status.NA
        assert lost.reason == "Rows sampled, not validated: the quality worker process stopped twice on them."
        others = [r for r in healthy[1:] if r.dataset_id != "d2"]
        assert evidence(list(by_id.values())) == evidence(others)  # the rest validated, as in the thread
        assert results[0].value["validated"] == 5 and results[0].value["sampled"] == 6
        del rows["d2"][0]["note"]
        portal_context.connector = FakeConnector(rows)
        again = content_quality(records, portal_context)  # the pool goes on with a fresh worker
    assert evidence(again) == evidence(healthy) and pool.restarts == 2


class BrokenExecutor(Executor):
    """Every sample's future fails as if its worker process had died."""

    started = 0

    def __init__(self, _workers: int) -> None:
        BrokenExecutor.started += 1

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        future.set_exception(BrokenProcessPool("a worker died"))
        return future


def test_workers_that_keep_dying_leave_validation_to_the_calling_thread():
    records, rows = rows_per_dataset()
    healthy = content_quality(records, context(FakeConnector(rows), client=object(), sample_datasets=6))
    BrokenExecutor.started = 0
    pool = QualityPool(1, make_executor=BrokenExecutor)
    portal_context = context(FakeConnector(rows), client=object(), sample_datasets=6)
    portal_context.row_validator = pool.validator
    results = content_quality(records, portal_context)
    assert pool.restarts == MAX_RESTARTS == BrokenExecutor.started
    lost = [r for r in results[1:] if r.reason.startswith("Rows sampled, not validated")]
    assert [r.dataset_id for r in lost] == [healthy[1].dataset_id, healthy[2].dataset_id]
    kept = [r for r in results[1:] if r not in lost]
    assert evidence(kept) == evidence(healthy[3:])  # validated in the thread once the pool gave up
    later = content_quality(records, portal_context)
    assert evidence(later) == evidence(healthy) and BrokenExecutor.started == MAX_RESTARTS
    pool.close()


def test_no_worker_starts_without_a_sample_and_zero_workers_validate_in_the_thread():
    pool = QualityPool(1, make_executor=BrokenExecutor)
    BrokenExecutor.started = 0
    records = [dataset("a")]
    portal_context = context(FakeConnector({"a": None}), client=object(), sample_datasets=1)
    portal_context.row_validator = pool.validator
    assert content_quality(records, portal_context)[0].status is Status.NA
    assert BrokenExecutor.started == 0
    records, rows = rows_per_dataset()
    in_thread = QualityPool(0)
    portal_context = context(FakeConnector(rows), client=object(), sample_datasets=3)
    portal_context.row_validator = in_thread.validator
    assert content_quality(records, portal_context)[0].value["validated"] == 3
    with pytest.raises(ValueError):
        QualityPool(-1)


def test_quality_workers_setting():
    from wwc_pipeline.config import AUTO_PROCESSES_FROM

    # not set: a quality worker for a run of many portals or of one, none for a few; writes in the thread
    assert Concurrency().quality_workers is None and Concurrency().writer_processes == 0
    many, few = Concurrency().for_run(AUTO_PROCESSES_FROM), Concurrency().for_run(AUTO_PROCESSES_FROM - 1)
    assert (many.quality_workers, many.writer_processes) == (1, 0)
    assert (few.quality_workers, few.writer_processes) == (0, 0)
    assert Concurrency().for_run(2).quality_workers == 0
    assert Concurrency().for_run(1).quality_workers == 1
    assert Concurrency(quality_workers=0).for_run(1).quality_workers == 0
    assert Concurrency(writer_processes=1).for_run(AUTO_PROCESSES_FROM).writer_processes == 1
    assert Concurrency(writer_processes=None).for_run(AUTO_PROCESSES_FROM).writer_processes == 0
    assert Concurrency(quality_workers=2, writer_processes=0).for_run(1000).quality_workers == 2
    assert Concurrency(quality_workers=0).quality_workers == 0
    assert Concurrency(quality_workers=3).for_run(1).quality_workers == 3
    with pytest.raises(ValidationError):
        Concurrency(quality_workers=-1)


def test_the_run_closes_its_quality_pool():
    from wwc_pipeline.flows.portal_tasks import close_resources, quality_pool

    settings = Concurrency(quality_workers=2)
    pool = quality_pool(settings)
    assert pool.workers == 2 and quality_pool(settings) is pool
    close_resources()
    assert pool._closed and quality_pool(settings) is not pool
    close_resources()


def test_workers_that_cannot_start_leave_validation_to_the_calling_thread():
    def cannot_start(_workers: int) -> Executor:
        raise OSError("Resource temporarily unavailable")

    records, rows = rows_per_dataset()
    healthy = content_quality(records, context(FakeConnector(rows), client=object(), sample_datasets=6))
    pool = QualityPool(1, make_executor=cannot_start)
    portal_context = context(FakeConnector(rows), client=object(), sample_datasets=6)
    portal_context.row_validator = pool.validator
    assert evidence(content_quality(records, portal_context)) == evidence(healthy)
    assert pool.restarts == MAX_RESTARTS


@pytest.mark.parametrize(
    ("settings", "sample_datasets", "started"),
    [
        (Concurrency(quality_workers=0), 25, True),  # validated in the task's thread: import ahead
        (Concurrency(quality_workers=1), 25, False),  # a worker process imports its own
        (Concurrency(quality_workers=0, task_runner="dask"), 25, False),  # so do Dask workers
        (Concurrency(quality_workers=0), 0, False),  # no portal samples rows: GE is never needed
    ],
)
def test_great_expectations_is_imported_ahead_only_where_rows_are_validated_in_thread(
    monkeypatch, settings, sample_datasets, started
):
    import wwc_pipeline.quality_pool as quality_pool

    calls = []
    monkeypatch.setattr(quality_pool, "import_in_background", lambda: calls.append("import"))
    portals = [
        PortalConfig(platform="socrata", url="http://127.0.0.1:9", sample_datasets=0),
        PortalConfig(platform="socrata", url="http://127.0.0.1:8", sample_datasets=sample_datasets),
    ]
    assert quality_pool.import_ahead(portals, settings) is started
    assert calls == (["import"] if started else [])


def test_the_import_ahead_thread_imports_great_expectations():
    import subprocess
    import sys

    code = (
        "import sys; from wwc_pipeline.checks.row_validation import import_in_background; "
        "assert 'great_expectations' not in sys.modules; import_in_background().join(60); "
        "assert 'great_expectations.validator.v1_validator' in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def great_expectations_imported() -> bool:
    """In a worker: whether Great Expectations is imported there already."""
    import sys

    return "great_expectations" in sys.modules


def test_a_pool_started_ahead_imports_great_expectations_in_its_worker_before_any_sample():
    with QualityPool(1) as started:
        assert started.start() is True
        assert started._executor.submit(great_expectations_imported).result(timeout=120) is True
    assert QualityPool(0).start() is False  # validation in the thread: nothing to start
    closed = QualityPool(1)
    closed.close()
    assert closed.start() is False


def test_a_worker_that_cannot_start_ahead_is_tried_again_at_the_first_sample():
    tries = []

    def cannot_start(_workers: int) -> Executor:
        tries.append("start")
        raise OSError("Resource temporarily unavailable")

    pool = QualityPool(1, make_executor=cannot_start)
    assert pool.start() is False and pool.restarts == 0
    records, rows = rows_per_dataset()
    portal_context = context(FakeConnector(rows), client=object(), sample_datasets=6)
    portal_context.row_validator = pool.validator
    content_quality(records, portal_context)
    assert len(tries) == 2 and pool.restarts == MAX_RESTARTS  # then validated in the thread


@pytest.mark.parametrize(
    ("settings", "sample_datasets", "started"),
    [
        (Concurrency().for_run(1), 25, True),  # one portal: a worker, started with the run
        (Concurrency(quality_workers=0).for_run(1), 25, False),  # validated in the thread
        (Concurrency().for_run(3), 25, False),  # a few portals: in the thread
        (Concurrency(task_runner="dask").for_run(1), 25, False),  # Dask workers start their own
        (Concurrency().for_run(1), 0, False),  # no portal samples rows
    ],
)
def test_quality_workers_start_with_the_run_only_where_samples_will_reach_them(
    settings, sample_datasets, started
):
    from wwc_pipeline.quality_pool import workers_start_with_run

    portals = [PortalConfig(platform="socrata", url="http://127.0.0.1:8", sample_datasets=sample_datasets)]
    assert workers_start_with_run(portals, settings) is started


def test_a_scan_of_a_one_portal_city_starts_its_quality_worker_with_the_run(
    prefect_harness, tmp_path, monkeypatch
):
    import yaml
    from wwc_pipeline.flows import nightly

    from wwc_pipeline.simulator.national import NationalSimulator
    from wwc_pipeline.simulator.national_plan import single_portal_plan

    started = []

    def noted(settings, portals):
        result = original(settings, portals)
        started.append((settings.quality_workers, [portal.url for portal in portals], result))
        return result

    original = nightly.quality_ahead
    monkeypatch.setattr(nightly, "quality_ahead", noted)
    monkeypatch.setenv("WWC_DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    with NationalSimulator(single_portal_plan("socrata", 40, seed=2, as_of=AS_OF), latency_s=0) as sim:
        [spec] = sim.portals
        cities = tmp_path / "cities.yaml"
        portal = {"platform": spec.platform, "url": spec.url}
        cities.write_text(yaml.safe_dump({"cities": [{"id": "one", "name": "One", "portals": [portal]}]}))
        summary = nightly.scan_cities(str(cities), ["one"], "rescan", "cli", AS_OF)["one"]
    assert summary["status"] == "succeeded"
    assert started == [(1, [spec.url], True)]  # its worker started before the harvest
