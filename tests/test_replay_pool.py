"""The replay pool: an unchanged catalog rebuilt and evaluated in a worker process stores exactly
what the nightly's own thread stores, only when none of the portal's checks waits on the portal,
and a worker that dies fails only the evaluation that was in it."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy
import yaml

from wwc_pipeline.config import PortalConfig
from wwc_pipeline.http import HttpClient
from wwc_pipeline.incremental import DeferredReplay
from wwc_pipeline.portal_steps import PortalJob
from wwc_pipeline.replay_pool import NoRequests, ReplayPool, replay_in_worker, waits_on_portal
from wwc_pipeline.simulator.national import NationalSimulator
from wwc_pipeline.simulator.national_plan import national_plan
from wwc_pipeline.warehouse.engine import WarehouseError

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)
OFFLINE = {"sample_datasets": 0, "check_links": 0}  # no portal check waits on the portal
NIGHTS = (AS_OF, AS_OF + timedelta(days=1), AS_OF + timedelta(days=400))  # a steady one, then stale ones


def cities_file(path, sim: NationalSimulator, replay_workers: int, **portal_options) -> str:
    portals = [{"platform": p.platform, "url": p.url, **portal_options} for p in sim.portals]
    document = {
        "concurrency": {"per_host": 2, "portals": 4, "replay_workers": replay_workers},
        "cities": [
            {"id": "twin", "name": "Twin", "portals": portals[:2]},
            {"id": "solo", "name": "Solo", "portals": portals[2:]},
        ],
    }
    path.write_text(yaml.safe_dump(document))
    return str(path)


# what each night left, as a reviewer reads it: ids differ between warehouses, the content must not
EVIDENCE = {
    "scores": """select r.city_id, s.criterion_id, s.score, s.status, s.evidence from criterion_scores s
        join runs r on r.id = s.run_id where r.id > :after""",
    "snapshots": """select p.url, s.status, s.assets, s.pages, count(e.position) from snapshots s
        join runs r on r.id = s.run_id join portals p on p.id = s.portal_id
        left join snapshot_entries e on e.entry_list_id = s.entry_list_id
        where r.id > :after group by s.id""",
    "results": """select p.url, c.check_id, d.dataset_id, c.status, c.value, c.reason from snapshots s
        join runs r on r.id = s.run_id join portals p on p.id = s.portal_id
        join snapshot_result_sets x on x.snapshot_id = s.id
        join result_set_members m on m.result_set_id = x.result_set_id
        join check_results c on c.id = m.check_result_id
        left join dataset_versions v on v.id = c.dataset_version_id
        left join datasets d on d.id = v.dataset_id
        where r.id > :after""",
}


def nights(url: str, cities: str, monkeypatch) -> tuple[dict, list[int]]:
    """Every night's evidence, and the rows each night wrote."""
    from wwc_pipeline.flows.nightly import nightly_scan

    from wwc_pipeline.warehouse import Warehouse

    monkeypatch.setenv("WWC_DATABASE_URL", url)
    Warehouse(url).migrate()
    engine = sqlalchemy.create_engine(url)
    evidence, rows = {}, []
    try:
        for as_of in NIGHTS:
            before, after = row_total(engine), last_run(engine)
            summaries = nightly_scan(cities_file=cities, trigger="cli", as_of=as_of)
            assert {summary["status"] for summary in summaries.values()} == {"succeeded"}
            rows.append(row_total(engine) - before)
            with engine.connect() as connection:
                for name, query in EVIDENCE.items():
                    found = connection.execute(sqlalchemy.text(query), {"after": after}).all()
                    evidence[as_of, name] = sorted(tuple(map(str, row)) for row in found)
    finally:
        engine.dispose()
    return evidence, rows


def last_run(engine: sqlalchemy.Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(sqlalchemy.text("select coalesce(max(id), 0) from runs")).scalar()


def row_total(engine: sqlalchemy.Engine) -> int:
    with engine.connect() as connection:
        tables = sqlalchemy.inspect(connection).get_table_names()
        return sum(connection.execute(sqlalchemy.text(f"select count(*) from {t}")).scalar() for t in tables)


def test_replays_in_a_worker_store_what_the_nightly_thread_stores(prefect_harness, tmp_path, monkeypatch):
    from wwc_pipeline.flows import handoff

    evaluated = []
    original = ReplayPool.evaluate

    def counted(pool, job, deferred):
        replayed = original(pool, job, deferred)
        evaluated.append((job.portal.url, replayed is not None))
        return replayed

    monkeypatch.setattr(ReplayPool, "evaluate", counted)
    plan = national_plan(4, datasets=60, seed=3, as_of=AS_OF)
    with NationalSimulator(plan, latency_s=0.0) as sim:
        here, here_rows = nights(
            f"sqlite:///{tmp_path / 'here.db'}",
            cities_file(tmp_path / "0.yaml", sim, 0, **OFFLINE),
            monkeypatch,
        )
        assert evaluated == []  # no worker: every replay in the task's thread
        there, there_rows = nights(
            f"sqlite:///{tmp_path / 'there.db'}",
            cities_file(tmp_path / "1.yaml", sim, 1, **OFFLINE),
            monkeypatch,
        )
        replayed_portals = {portal.url for portal in sim.portals if portal.platform in ("socrata", "dcat")}
    assert handoff.parked_labels() == set()
    # both re-runs of every portal whose pages answer 304 went to the worker, and came back whole
    assert sorted(evaluated) == sorted((url, True) for url in replayed_portals for _ in NIGHTS[1:])
    assert here.keys() == there.keys() and all(here[key] for key in here)
    for key in here:
        assert there[key] == here[key], key
    assert there_rows == here_rows
    assert here_rows[1] < here_rows[2]  # the late night turned datasets stale: their results travelled back


def test_only_portals_whose_checks_never_wait_on_them_go_to_the_worker():
    client = HttpClient(per_host=2)
    try:
        offline = PortalConfig(platform="socrata", url="http://127.0.0.1:9", **OFFLINE)
        sampled = PortalConfig(platform="socrata", url="http://127.0.0.1:9", check_links=0)
        probed = PortalConfig(platform="socrata", url="http://127.0.0.1:9", sample_datasets=0)
        assert not waits_on_portal(offline, client)
        assert waits_on_portal(sampled, client) and waits_on_portal(probed, client)
        assert ReplayPool("sqlite://", 1).takes(offline, client)
        assert not ReplayPool("sqlite://", 1).takes(sampled, client)
        assert not ReplayPool("sqlite://", 0).takes(offline, client)  # no worker: nothing is sent
    finally:
        client.close()


def test_a_check_that_cannot_say_whether_it_waits_keeps_its_portal_here(monkeypatch):
    from wwc_pipeline import registry

    registry.load_plugins()

    def cannot_say(_context):
        raise ValueError("no idea")

    def check(_records, _context):
        return []

    check.waits_on_portal = cannot_say
    monkeypatch.setitem(registry.PORTAL_CHECKS, "test.cannot_say", check)
    offline = PortalConfig(platform="socrata", url="http://127.0.0.1:9", **OFFLINE)
    assert waits_on_portal(offline, NoRequests())


def test_the_workers_client_sends_nothing():
    client = NoRequests()
    assert client.for_portal(object()) is client and client.within(5.0, "a deadline") is client
    with pytest.raises(RuntimeError, match=r"sends no request \(get_json\)"):
        client.get_json("http://127.0.0.1:9/api")


def job_of(url: str) -> PortalJob:
    portal = PortalConfig(platform="socrata", url="http://127.0.0.1:9", **OFFLINE)
    return PortalJob("solo", "Solo", 1, portal, AS_OF)


def test_a_snapshot_that_cannot_be_rebuilt_comes_back_as_none(tmp_path):
    from wwc_pipeline.warehouse import Warehouse

    url = f"sqlite:///{tmp_path / 'w.db'}"
    Warehouse(url).migrate()
    assert replay_in_worker(url, job_of(url), DeferredReplay(12345)) is None


def test_a_dead_replay_worker_fails_its_evaluation_in_one_line_and_the_next_one_works(tmp_path):
    from wwc_pipeline.warehouse import Warehouse

    url = f"sqlite:///{tmp_path / 'w.db'}"
    Warehouse(url).migrate()
    pool = ReplayPool(url, 1)
    try:
        assert pool.evaluate(job_of(url), DeferredReplay(12345)) is None  # the worker is up
        (worker,) = pool._workers.executor()._processes.values()
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(10)
        with pytest.raises(WarehouseError, match="replay worker process stopped") as raised:
            pool.evaluate(job_of(url), DeferredReplay(12345))
        assert "\n" not in str(raised.value)
        assert pool.evaluate(job_of(url), DeferredReplay(12345)) is None  # a new worker
    finally:
        pool.close()
