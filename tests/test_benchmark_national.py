"""The national benchmark's parts, at tiny sizes: what they measure, never how fast."""

from __future__ import annotations

import subprocess
import sys

import requests

from benchmarks.national_served import ServedNation
from benchmarks.rss import PeakTreeRss, descendants, role_of
from wwc_pipeline.config import load_cities

ALLOCATE = (
    "import time; block = bytearray({mb} << 20); block[::4096] = b'x' * len(block[::4096]); time.sleep(1.5)"
)


def test_peak_rss_counts_the_whole_process_tree():
    parent = (
        "import subprocess, sys, time; "
        f"child = subprocess.Popen([sys.executable, '-c', {ALLOCATE.format(mb=120)!r}]); "
        f"{ALLOCATE.format(mb=80)}; child.wait()"
    )
    process = subprocess.Popen([sys.executable, "-c", parent])
    with PeakTreeRss(process.pid, interval_s=0.05) as peak:
        process.wait()
    assert peak.peak_mb >= 200  # 80 MB in the parent and 120 MB in its child, at the same time


def test_peak_rss_is_split_by_role_root_prefect_server_and_others():
    server = f"[sys.executable, '-c', {ALLOCATE.format(mb=120)!r}, 'wwc_pipeline.prefect_local']"
    worker = f"[sys.executable, '-c', {ALLOCATE.format(mb=60)!r}]"
    parent = (
        "import subprocess, sys, time; "
        f"children = [subprocess.Popen({server}), subprocess.Popen({worker})]; "
        f"{ALLOCATE.format(mb=30)}; [child.wait() for child in children]"
    )
    process = subprocess.Popen([sys.executable, "-c", parent])
    with PeakTreeRss(process.pid, interval_s=0.05, timeline_s=0.5) as peak:
        process.wait()
    roles = peak.by_role()
    assert roles["prefect_server"] >= 120 and 60 <= roles["other"] < 120 and 30 <= roles["wwc"] < 60
    assert roles["wwc_hwm"] >= 30 and sum(roles["at_peak"].values()) >= 210
    assert peak.timeline and set(peak.timeline[0]) == {"s", "wwc", "prefect_server", "other"}
    assert role_of(process.pid, process.pid) == "wwc"


BUSY = "import time; end = time.process_time() + {s}; exec('while time.process_time() < end: pass')"


def test_cpu_is_split_by_role_and_kept_for_a_child_that_exited():
    """A worker that spins 0.8 s of CPU and exits before its parent, which spins 0.3 s."""
    worker = f"[sys.executable, '-c', {BUSY.format(s=0.8)!r}]"
    parent = (
        f"import subprocess, sys, time; subprocess.Popen({worker}).wait(); {BUSY.format(s=0.3)}; "
        "time.sleep(0.3)"
    )
    process = subprocess.Popen([sys.executable, "-c", parent])
    with PeakTreeRss(process.pid, interval_s=0.05) as peak:
        process.wait()
    cpu = peak.cpu_by_role_s()
    assert 0.4 <= cpu["other"] <= 1.5 and 0.25 <= cpu["wwc"] < 0.8 and cpu["prefect_server"] == 0


def test_descendants_of_a_process_without_children_is_itself():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1)"])
    try:
        assert descendants(process.pid) == [process.pid]
    finally:
        process.wait()


def test_served_nation_writes_its_cities_file_and_counts_requests(tmp_path):
    with ServedNation(
        {"portals": 5, "datasets": 50, "seed": 2}, tmp_path / "cities.yaml", latency_s=0
    ) as nation:
        config = load_cities(nation.cities_file)
        urls = [portal.url for city in config.cities for portal in city.portals]
        assert len(urls) == 5 == len(nation.portals) and nation.datasets == 50
        for url in urls:
            assert requests.get(url + "/terms-of-use", timeout=30).status_code == 200
        stats = nation.stats()
        assert stats["requests"] == 5 and stats["max_in_flight_per_host"] == 1
        nation.reset()
        assert nation.stats()["requests"] == 0


def test_a_database_url_that_holds_tables_is_refused_with_one_line(tmp_path, capsys):
    import sqlalchemy

    from benchmarks import national

    url = f"sqlite:///{tmp_path / 'used.db'}"
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("CREATE TABLE runs (id INTEGER)"))
    engine.dispose()
    assert national.main(["--database-url", url, "--work", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert error == f"error: --database-url {url}: holds tables already (runs); give an empty database"
    assert national.not_empty(f"sqlite:///{tmp_path / 'new.db'}") is None
