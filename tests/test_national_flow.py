"""The per-portal nightly against the national simulator: politeness, a portal failing alone and
retried, Prefect ids on the warehouse runs, and the same flow on a real local Dask cluster."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import yaml

from wwc_pipeline.config import load_criteria
from wwc_pipeline.scoring import score_city
from wwc_pipeline.simulator import Faults
from wwc_pipeline.simulator.national import NationalSimulator
from wwc_pipeline.simulator.national_plan import national_plan
from wwc_pipeline.warehouse import Warehouse

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)
QUIET = {"sample_datasets": 0}  # content checks sample rows; these tests are about orchestration


@pytest.fixture
def warehouse_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    monkeypatch.setenv("WWC_DATABASE_URL", url)
    return url


def two_cities(sim: NationalSimulator, path, concurrency: dict) -> str:
    """City `twin` with portals 0 and 1, city `solo` with portal 2 (hand-made grouping)."""
    portals = [{"platform": p.platform, "url": p.url, **QUIET} for p in sim.portals]
    document = {
        "concurrency": concurrency,
        "cities": [
            {"id": "twin", "name": "Twin", "portals": portals[:2]},
            {"id": "solo", "name": "Solo", "portals": portals[2:3]},
        ],
    }
    path.write_text(yaml.safe_dump(document))
    return str(path)


def test_no_portal_host_ever_sees_more_than_its_limit(prefect_harness, warehouse_url, tmp_path):
    from wwc_pipeline.flows import handoff
    from wwc_pipeline.flows.nightly import nightly_scan

    # four cities share the same four portals (a county's portal serves its cities too): each host
    # gets four harvests at once, each with its pages and link probes, unless the client holds them
    plan = national_plan(4, datasets=200, seed=3, as_of=AS_OF)
    # 0.2 s a request: a host's four harvests overlap however fast the pipeline's own CPU is
    # (at 50 ms, with the CPU per portal cut, one harvest could end before the next began)
    with NationalSimulator(plan, latency_s=0.2) as sim:
        portals = [{"platform": p.platform, "url": p.url, **QUIET} for p in sim.portals]
        document = {
            "concurrency": {"per_host": 2, "portals": 16},
            "cities": [{"id": f"city-{n}", "name": f"City {n}", "portals": portals} for n in range(4)],
        }
        cities = tmp_path / "cities.yaml"
        cities.write_text(yaml.safe_dump(document))
        summaries = nightly_scan(cities_file=str(cities), trigger="cli", as_of=AS_OF)
        assert {summary["status"] for summary in summaries.values()} == {"succeeded"}
        assert handoff.parked_labels() == set()  # no catalog, results or evidence left behind
        # every catalog page, row sample and link probe counted: never more than 2 at one host ...
        assert all(portal.max_in_flight <= 2 for portal in sim.portals), sim.stats()
        # ... while the limit was reached, and hosts were asked side by side
        assert sim.max_in_flight() == 2
        assert sim.max_total_in_flight > 2
        assert all(portal.served >= 4 for portal in sim.portals)  # every city harvested every portal


@pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")
def test_a_failing_portal_fails_alone_and_a_retry_of_it_completes_the_run(
    prefect_harness, warehouse_url, tmp_path, monkeypatch
):
    from prefect import get_client
    from wwc_pipeline.flows.errors import CityScanFailed
    from wwc_pipeline.flows.nightly import nightly_scan
    from wwc_pipeline.flows.retry import retry_portals

    # the same tries as by default, with short waits between them (1, 2, 4 s by default: 40 s of
    # a run that harvests the down portal six times)
    monkeypatch.setenv("WWC_HTTP_RETRY_BACKOFF_S", "0.05")

    criteria = load_criteria()
    plan = national_plan(3, datasets=90, seed=4, as_of=AS_OF)
    with NationalSimulator(plan, latency_s=0.0) as sim:
        cities = two_cities(sim, tmp_path / "cities.yaml", {"portal_retries": 1, "portal_retry_delay_s": 0})
        down = sim.portals[1]
        down.set_faults(Faults(down=True))
        summaries = nightly_scan(cities_file=cities, trigger="cli", as_of=AS_OF)
        twin, solo = summaries["twin"], summaries["solo"]
        assert (twin["status"], solo["status"]) == ("partial", "succeeded")
        assert list(twin["failed_portals"]) == [down.url] and "503" in twin["failed_portals"][down.url]

        warehouse = Warehouse()
        # the evidence read back from the warehouse scores the city as the run itself did
        rebuilt = warehouse.run_evidence(solo["run_id"])
        scores = {
            row["criterion_id"]: (row["score"], row["status"])
            for row in score_city(criteria, [*rebuilt.values()])
        }
        assert scores == solo["scores"] and all(d.title for e in rebuilt.values() for d in e.datasets)
        info = warehouse.run_info(twin["run_id"])
        assert info["status"] == "partial" and info["prefect_flow_run_id"]
        assert info["portals"][down.url]["status"] == "failed"
        healthy = info["portals"][sim.portals[0].url]
        assert healthy["status"].startswith("complete")

        async def states(task_runs: dict[str, str]) -> dict[str, str]:
            async with get_client() as client:
                return {
                    step: (await client.read_task_run(task_run_id)).state.type.value
                    for step, task_run_id in task_runs.items()
                }

        failed_steps = asyncio.run(states(info["portals"][down.url]["task_runs"]))
        assert failed_steps["harvest"] == "FAILED" and failed_steps["write"] != "COMPLETED"
        ok_steps = asyncio.run(states(healthy["task_runs"]))
        assert set(ok_steps.values()) == {"COMPLETED"} and set(ok_steps) == {"harvest", "evaluate", "write"}
        assert down.requests.count() >= 2 * 4  # two task tries of the harvest, each request tried 4 times

        still = retry_portals(twin["run_id"], cities_file=cities)  # still down: still partial
        assert still["status"] == "partial" and list(still["failed_portals"]) == [down.url]
        assert warehouse.run_info(twin["run_id"])["status"] == "partial"
        sim.portals[2].set_faults(Faults(down=True))
        with pytest.raises(CityScanFailed):  # a named portal, retried and failing, fails its one-portal city
            retry_portals(solo["run_id"], portals=[sim.portals[2].url], cities_file=cities)
        assert warehouse.run_info(solo["run_id"])["status"] == "failed"

        down.set_faults(Faults())
        again = retry_portals(twin["run_id"], cities_file=cities)
        assert again["status"] == "succeeded" and again["retried"] == [down.url]
        after = warehouse.run_info(twin["run_id"])
        assert after["status"] == "succeeded" and after["portals"][down.url]["status"].startswith("complete")
        both = sum(p.datasets + (p.include_policy and p.platform != "socrata") for p in plan.portals[:2])
        assert again["datasets"] == both  # the retried portal and the other, from the warehouse
        report = warehouse.city_report("twin", twin["run_id"])
        assert len(report["datasets"]) == both


def test_the_same_flow_runs_on_a_local_dask_cluster(prefect_harness, tmp_path, monkeypatch):
    from prefect.settings import PREFECT_API_URL
    from wwc_pipeline.flows.nightly import nightly_scan

    # Dask workers are other processes: they find the Prefect API through the environment
    monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())
    plan = national_plan(4, datasets=120, seed=6, as_of=AS_OF)
    scores = {}
    with NationalSimulator(plan, latency_s=0.0) as sim:
        for runner in ("threads", "dask"):
            monkeypatch.setenv("WWC_DATABASE_URL", f"sqlite:///{tmp_path / runner}.db")
            concurrency = {"task_runner": runner, "dask_workers": 2, "portals": 2}
            cities = sim.write_cities_file(tmp_path / f"{runner}.yaml", QUIET, concurrency)
            summaries = nightly_scan(cities_file=str(cities), trigger="cli", as_of=AS_OF)
            assert {summary["status"] for summary in summaries.values()} == {"succeeded"}
            scores[runner] = {city: summary["scores"] for city, summary in summaries.items()}
            warehouse = Warehouse()
            for summary in summaries.values():
                portals = warehouse.run_info(summary["run_id"])["portals"].values()
                assert all(set(p["task_runs"]) == {"harvest", "evaluate", "write"} for p in portals)
    assert scores["dask"] == scores["threads"]


def test_the_local_dask_cluster_runs_without_the_worker_profiler():
    """The local cluster's workers sample no stacks (a CPython 3.11 deadlock with starting
    threads, runners.quiet_worker_profiler); a remote cluster keeps its own settings."""
    import dask
    from wwc_pipeline.flows.runners import task_runner

    from wwc_pipeline.config import Concurrency

    with dask.config.set({"distributed.worker.profile.enabled": True}):  # restored after the test
        task_runner(Concurrency(task_runner="dask", dask_address="tcp://127.0.0.1:8786"))
        assert dask.config.get("distributed.worker.profile.enabled") is True
        task_runner(Concurrency(task_runner="dask"))
        assert dask.config.get("distributed.worker.profile.enabled") is False
