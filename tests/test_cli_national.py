"""`wwc simulate --national N` and `wwc retry`, as a user runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import requests

from tests.interrupt import interruptible
from wwc_pipeline.config import load_cities
from wwc_pipeline.simulator.national_plan import national_plan


def wwc(*arguments: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wwc_pipeline.cli", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def test_simulate_national_writes_the_cities_file_of_the_plan_and_serves_it(tmp_path):
    out = tmp_path / "national.yaml"
    command = [sys.executable, "-m", "wwc_pipeline.cli", "simulate", "--national", "6", "--seed", "2"]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    process = subprocess.Popen(interruptible([*command, "--out", str(out)]), **pipes)
    try:
        deadline = time.monotonic() + 60
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        config = load_cities(out)
        plan = national_plan(6, seed=2)
        assert [city.id for city in config.cities] == [city.id for city in plan.cities]
        portals = [portal for city in config.cities for portal in city.portals]
        assert [portal.platform for portal in portals] == [spec.platform for spec in plan.portals]
        assert all(requests.get(p.url + "/terms-of-use", timeout=30).status_code == 200 for p in portals)
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "6 portals" in stdout and str(out) in stdout and "Traceback" not in stderr


def test_simulate_national_refuses_nonsense_in_one_line(tmp_path):
    result = wwc("simulate", "--national", "0", "--out", str(tmp_path / "x.yaml"))
    assert result.returncode == 2
    assert (
        result.stderr.strip().startswith("error: --national 0")
        and len(result.stderr.strip().splitlines()) == 1
    )


def test_retry_of_a_run_that_does_not_exist_is_one_line(tmp_path, monkeypatch):
    cities = tmp_path / "cities.yaml"
    cities.write_text(
        "cities:\n  - id: x\n    name: X\n    portals:\n      - {platform: dcat, url: 'http://127.0.0.1:9'}\n"
    )
    env = {**os.environ, "WWC_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    result = wwc("retry", "--run", "999", "--config", str(cities), env=env)
    assert result.returncode == 2, result.stderr
    assert "run 999 not found" in result.stderr and "Traceback" not in result.stderr
