"""The command line: one-line errors with exit status 2, evaluate against the real vectors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.conftest import REAL_PORTALS
from wwc_pipeline.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def assert_one_line_error(result, *words: str):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    for word in words:
        assert word in result.output


def test_unknown_city(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(
        "cities:\n- id: a\n  name: A\n  portals:\n  - {platform: socrata, url: 'http://127.0.0.1:9'}\n"
    )
    assert_one_line_error(run("scan", "--city", "atlantis", "--config", str(config)), "atlantis")


def test_a_portal_listed_twice_is_one_line_and_exit_2(tmp_path):
    config = tmp_path / "c.yaml"
    portal = "  - {platform: socrata, url: 'http://127.0.0.1:9'}\n"
    config.write_text("cities:\n- id: a\n  name: A\n  portals:\n" + portal + portal)
    assert_one_line_error(run("scan", "--city", "a", "--config", str(config)), "is listed twice")


def test_malformed_yaml(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("cities: [\n")
    assert_one_line_error(run("cities", "--config", str(config)), "not valid YAML")


def test_missing_catalog_file(tmp_path):
    assert_one_line_error(run("evaluate", "--catalog-file", str(tmp_path / "none.json")), "not found")


def test_unknown_platform(tmp_path):
    file = tmp_path / "x.json"
    file.write_text("[]")
    assert_one_line_error(
        run("evaluate", "--platform", "sharepoint", "--catalog-file", str(file)), "sharepoint"
    )


def test_unparseable_date(tmp_path):
    file = tmp_path / "x.json"
    file.write_text("[]")
    assert_one_line_error(run("evaluate", "--catalog-file", str(file), "--as-of", "yesterday"), "yesterday")


def test_not_json(tmp_path):
    file = tmp_path / "x.json"
    file.write_text("{nope")
    assert_one_line_error(
        run("evaluate", "--catalog-file", str(file), "--platform", "socrata"), "not valid JSON"
    )


def test_unrecognised_shape(tmp_path):
    file = tmp_path / "x.json"
    file.write_text('{"hello": 1}')
    assert_one_line_error(run("evaluate", "--catalog-file", str(file)), "--platform")


def test_evaluate_pages_of_one_catalog_together(tmp_path):
    """NYC's three Discovery pages evaluated as one catalog: the counts add up page by page."""
    names = [f"socrata-discovery-nyc-attribution-dot-20250504-p{i}" for i in (1, 2, 3)]
    if not (REAL_PORTALS / f"{names[0]}.json").is_file():
        pytest.skip(f"{REAL_PORTALS} absent")
    expected = [json.loads((REAL_PORTALS / "expected" / f"{n}.summary.json").read_text()) for n in names]
    details = tmp_path / "d.jsonl"
    args = ["evaluate", "--platform", "auto", "--as-of", "2025-05-04", "--json", "--details", str(details)]
    for name in names:
        args += ["--catalog-file", str(REAL_PORTALS / f"{name}.json")]
    result = run(*args)
    assert result.exit_code == 0, result.output
    got = json.loads(result.output)
    assert got["platform"] == "socrata"
    assert got["portal"] == "data.cityofnewyork.us"
    assert got["assets"] == sum(e["assets"] for e in expected)
    assert got["datasets"] == sum(e["datasets"] for e in expected)
    for metric in ("has_description", "has_license", "declares_frequency"):
        assert got["metrics"][metric]["pass"] == sum(e["metrics"][metric]["pass"] for e in expected)
    lines = details.read_text().splitlines()
    assert len(lines) == got["datasets"]
    assert "MEASURE-OD-METADATA" in got["criteria"]


def test_no_prefect_telemetry_notice_on_a_terminal(tmp_path):
    """A first run on a terminal: `import prefect` prints its telemetry notice unless told not to."""
    import os
    import pty
    import subprocess
    import sys

    ci_markers = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "BUILDKITE", "TF_BUILD", "CI_NAME")
    env = {k: v for k, v in os.environ.items() if k not in ("DO_NOT_TRACK", *ci_markers)}
    env["PREFECT_HOME"] = str(tmp_path / "fresh-prefect-home")
    # the CLI's console module first (as every command loads it), then what a command imports
    code = "import wwc_pipeline.cli; from wwc_pipeline.flows.nightly import nightly_scan; print('imported')"
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdin=terminal, stdout=terminal, stderr=terminal, env=env
    )
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=120)
    os.close(controller)
    text = output.decode(errors="replace")
    assert "imported" in text, text
    assert "anonymous usage data" not in text and "To opt out" not in text, text


def test_simulate_listens_from_the_given_port_and_refuses_a_taken_one(tmp_path):
    import signal
    import socket
    import subprocess
    import sys
    import time

    import yaml

    from tests.interrupt import interruptible

    def free(port: int) -> bool:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
        return True

    # six consecutive free ports (the demo's portals), below the ephemeral range other tests use
    base = next(port for port in range(21000, 30000, 50) if all(free(port + i) for i in range(6)))
    out = tmp_path / "sim.yaml"
    command = [sys.executable, "-m", "wwc_pipeline.cli", "simulate", "--port", str(base), "--out", str(out)]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    process = subprocess.Popen(interruptible(command), **pipes)
    try:
        deadline = time.monotonic() + 60
        while not out.is_file() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        assert out.is_file(), process.stderr.read() if process.poll() is not None else "no cities file"
        urls = [p["url"] for c in yaml.safe_load(out.read_text())["cities"] for p in c["portals"]]
        assert [int(url.rsplit(":", 1)[1]) for url in urls] == list(range(base, base + len(urls)))
        taken = run("simulate", "--port", str(base), "--out", str(tmp_path / "again.yaml"))
        assert_one_line_error(taken, f"127.0.0.1:{base}", "--port")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


@pytest.mark.parametrize("command", [["nightly"], ["scan", "--city", "springfield"], ["retry", "--run", "1"]])
def test_a_bad_retry_backoff_setting_is_one_line_before_any_flow(command, monkeypatch):
    monkeypatch.setenv("WWC_HTTP_RETRY_BACKOFF_S", "soon")
    assert_one_line_error(run(*command), "WWC_HTTP_RETRY_BACKOFF_S", "not a number of seconds")
