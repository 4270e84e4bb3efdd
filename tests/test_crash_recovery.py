"""Crash recovery (issue 13, item 8): a run whose process died is not left `running` forever.

The end-to-end test kills a real scan with `kill -9` halfway through a slow harvest; the unit
tests plant runs of gone processes, of reused pids and with stale heartbeats.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from wwc_pipeline.config import CityConfig, PortalConfig, load_criteria
from wwc_pipeline.http import HttpClient
from wwc_pipeline.pipeline import scan_city
from wwc_pipeline.simulator import GeneratedCatalog, PortalSimulator
from wwc_pipeline.warehouse import Warehouse, WarehouseError, liveness
from wwc_pipeline.warehouse.models import Run

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)

SLOW_SCAN = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from wwc_pipeline.config import CityConfig, PortalConfig, load_criteria
    from wwc_pipeline.http import HttpClient
    from wwc_pipeline.pipeline import scan_city
    from wwc_pipeline.simulator import Faults, GeneratedCatalog, PortalSimulator
    from wwc_pipeline.warehouse import Warehouse

    as_of = datetime(2026, 11, 1, tzinfo=UTC)
    with PortalSimulator() as sim:  # 2,000 datasets, 1 s a request: a harvest of many seconds
        portal = sim.add_portal(platform="socrata", catalog=GeneratedCatalog(size=2000, seed=5, as_of=as_of),
                                faults=Faults(latency_s=1.0))
        portals = [PortalConfig(platform="socrata", url=portal.url)]
        city = CityConfig(id="crashy", name="Crashy", portals=portals)
        warehouse = Warehouse(sys.argv[1])
        with HttpClient(min_interval=0) as client:
            scan_city(city, warehouse=warehouse, criteria=load_criteria(), client=client, as_of=as_of)
    """
)


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def test_a_scan_killed_with_sigkill_is_failed_abandoned_by_the_next_scan(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    warehouse = Warehouse(url)
    warehouse.migrate()
    script = tmp_path / "slow_scan.py"
    script.write_text(SLOW_SCAN)
    child = subprocess.Popen(
        [sys.executable, str(script), url], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        [running] = wait_for(
            lambda: [r for r in warehouse.runs(city_id="crashy") if r["status"] == "running"],
            60,
            "the scan to start its run",
        )
        assert (running["host"], running["pid"]) == (socket.gethostname(), child.pid)
        time.sleep(1.0)  # mid-harvest: the simulator answers one page a second
        assert child.poll() is None, child.stderr.read().decode()
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    with PortalSimulator() as sim, HttpClient(min_interval=0) as client:  # the next scan
        portal = sim.add_portal(platform="ckan", catalog=GeneratedCatalog(size=20, seed=3, as_of=AS_OF))
        city = CityConfig(id="next", name="Next", portals=[PortalConfig(platform="ckan", url=portal.url)])
        assert scan_city(
            city, warehouse=warehouse, criteria=load_criteria(), client=client, as_of=AS_OF
        ).status == ("succeeded")
    with warehouse.engine.connect() as connection:  # read directly: runs() would reap by itself
        rows = connection.execute(Run.__table__.select().order_by(Run.id)).all()
    assert [row.status for row in rows] == ["failed", "succeeded"]
    assert rows[0].error.startswith(f"abandoned: process {child.pid} ") and rows[0].finished_at is not None
    warehouse.dispose()


@pytest.fixture
def wh(tmp_path) -> Warehouse:
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'w.db'}", stale_after=timedelta(minutes=5))
    warehouse.migrate()
    yield warehouse
    warehouse.dispose()


def plant(wh: Warehouse, **values) -> int:
    run = wh.start_run("springfield", "Springfield", "nightly", "cli", AS_OF)
    wh.finish_run(run, "succeeded")  # stops this process beating for it; then make it look running
    with wh.engine.begin() as connection:
        connection.execute(
            update(Run).where(Run.id == run).values(status="running", finished_at=None, **values)
        )
    return run


def test_runs_lists_dead_reused_and_silent_runs_as_abandoned_and_leaves_live_ones(wh: Warehouse) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    now = datetime.now(UTC)
    gone = plant(wh, pid=dead.pid)
    reused = plant(wh, pid=os.getpid(), process_started_at=now - timedelta(days=3))  # our pid, not our start
    silent = plant(wh, host="elsewhere.example", pid=1, heartbeat_at=now - timedelta(minutes=6))
    legacy = plant(
        wh,
        host=None,
        pid=None,
        process_started_at=None,
        heartbeat_at=None,
        started_at=now - timedelta(hours=1),
    )
    remote = plant(wh, host="elsewhere.example", pid=1, heartbeat_at=now - timedelta(minutes=1))
    live = wh.start_run("springfield", "Springfield", "nightly", "cli", AS_OF)  # this process, beating

    by_id = {run["id"]: run for run in wh.runs()}
    assert {run_id for run_id, run in by_id.items() if run["status"] == "running"} == {remote, live}
    for run_id in (gone, reused, silent, legacy):
        assert by_id[run_id]["status"] == "failed" and by_id[run_id]["error"].startswith("abandoned: ")
    assert f"process {dead.pid} is gone" in by_id[gone]["error"]
    assert "pid now belongs to a process started" in by_id[reused]["error"]
    assert "no heartbeat from process 1 on elsewhere.example" in by_id[silent]["error"]
    assert "no heartbeat from an unknown process" in by_id[legacy]["error"]


def test_a_live_run_beats_until_it_finishes(tmp_path) -> None:
    wh = Warehouse(f"sqlite:///{tmp_path / 'w.db'}", stale_after=timedelta(seconds=1))  # beats every 0.1 s
    wh.migrate()
    run = wh.start_run("springfield", "Springfield", "nightly", "cli", AS_OF)
    first = wh.runs()[0]["heartbeat_at"]
    time.sleep(1.5)  # longer than the stale limit: only the beats keep it alive
    [listed] = wh.runs()
    assert listed["status"] == "running" and listed["heartbeat_at"] > first
    wh.finish_run(run, "succeeded")
    done = wh.runs()[0]["heartbeat_at"]
    time.sleep(0.5)
    assert wh.runs()[0]["heartbeat_at"] == done
    wh.dispose()


def test_a_bad_stale_limit_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("WWC_RUN_STALE_SECONDS", "soon")
    with pytest.raises(WarehouseError, match="WWC_RUN_STALE_SECONDS='soon' is not a number of seconds"):
        Warehouse(f"sqlite:///{tmp_path / 'w.db'}")


def test_a_run_start_looks_only_at_runs_this_process_does_not_beat_for(wh: Warehouse, monkeypatch) -> None:
    live = [wh.start_run(f"city-{n}", f"City {n}", "nightly", "cli", AS_OF) for n in range(3)]
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = plant(wh, pid=dead.pid)
    judged = []
    judge = liveness.abandoned_reason

    def judged_here(run, *rest):
        judged.append(run.id)
        return judge(run, *rest)

    monkeypatch.setattr(liveness, "abandoned_reason", judged_here)
    started = wh.start_run("springfield", "Springfield", "nightly", "cli", AS_OF)
    assert judged == [gone]  # a nightly's start of each city no longer reads every earlier city's run
    by_id = {run["id"]: run for run in wh.runs()}
    assert by_id[gone]["status"] == "failed" and by_id[gone]["error"].startswith("abandoned: ")
    assert all(by_id[run_id]["status"] == "running" for run_id in (*live, started))
