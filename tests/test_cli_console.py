"""What the CLI prints: untrusted text stays inert everywhere; runs shown whole; one line per problem.

Untrusted text (city ids and names, portal URLs and messages, errors, titles, paths) carries rich
markup (`[/]`, `[bold]`) and terminal escapes (`\\x1b[31m`). Every console path must print it as
written, without a traceback, and with no escape byte reaching the terminal.
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

import wwc_pipeline.cli as cli
import wwc_pipeline.cliutil as cliutil
from wwc_pipeline import progress
from wwc_pipeline.cliviews import cities_table, run_detail, runs_table
from wwc_pipeline.config import load_cities
from wwc_pipeline.model import CatalogSnapshot
from wwc_pipeline.warehouse import Warehouse

HOSTILE = "[/] x [bold]loud\x1b[31mred\x1b]8;;http://evil\x07link\x07 \x9b31m"
SHOWN = ["[/] x [bold]loud", "red", "link"]  # what must appear, in this order
runner = CliRunner()


def plain_console() -> tuple[Console, io.StringIO]:
    """A console like a pipe: no colours of its own, so any escape byte came from the text."""
    buffer = io.StringIO()
    return Console(file=buffer, width=400, force_terminal=False, color_system=None), buffer


def assert_inert(output: str) -> None:
    assert "\x1b" not in output and "\x07" not in output and "\x9b" not in output, repr(output)
    assert "Traceback" not in output and "MarkupError" not in output
    position = 0
    for part in SHOWN:
        position = output.index(part, position)


@pytest.fixture
def consoles(monkeypatch) -> io.StringIO:
    """Both CLI consoles (stdout tables, stderr errors/progress/warnings) into one buffer."""
    console, buffer = plain_console()
    monkeypatch.setattr(cliutil, "console", console)
    monkeypatch.setattr(cliutil, "stdout", console)
    monkeypatch.setattr(cli, "stdout", console)
    monkeypatch.setattr(cli, "console", console)
    return buffer


def test_error_lines_are_inert(consoles):
    with pytest.raises(typer.Exit):
        cliutil.fail(f"unknown city {HOSTILE!s}")
    assert_inert(consoles.getvalue())
    assert consoles.getvalue().startswith("error: unknown city [/] x [bold]loud")
    assert consoles.getvalue().count("\n") == 1


def test_scan_with_a_hostile_city_id_is_one_line_exit_2():
    result = runner.invoke(cli.app, ["scan", "--city", HOSTILE])
    assert result.exit_code == 2, result.output
    assert_inert(result.output)
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1


def test_summaries_table_and_warnings_are_inert(consoles):
    summary = {
        "run_id": 7,
        "status": "partial",
        "error": None,
        "failed_portals": {f"http://127.0.0.1:1/{HOSTILE}": f"GET failed: {HOSTILE}"},
        "warnings": {"http://127.0.0.1:2": [f"server says {HOSTILE}"]},
        "datasets": 3,
    }
    cli._print_summaries({f"city-{HOSTILE}": summary})
    output = consoles.getvalue()
    assert_inert(output)
    assert f"warning: city-{SHOWN[0]}" in output


def test_progress_lines_are_inert(consoles):
    with cliutil.live_progress():
        progress.report("page", portal=f"http://p/{HOSTILE}", pages=1, records=2, total=HOSTILE)
        progress.report("check", portal=f"http://p/{HOSTILE}", check=HOSTILE)
        progress.report("portal", portal=f"http://p/{HOSTILE}", state="failed", error=HOSTILE)
        progress.report("portal", portal=f"http://q/{HOSTILE}", state="done", datasets=1, warnings=[HOSTILE])
    assert_inert(consoles.getvalue())


def test_pipeline_log_lines_are_inert(consoles):
    with cliutil.live_progress():
        logging.getLogger("wwc_pipeline.paging").warning("%s: %s", "http://p", HOSTILE)
    output = consoles.getvalue()
    assert_inert(output)
    assert "warning: http://p: [/] x" in output


def hostile_run(run_id: int = 1) -> dict:
    return {
        "id": run_id,
        "city_id": f"c{HOSTILE}",
        "kind": "rescan",
        "trigger": "cli",
        "status": "failed",
        "started_at": "2026-11-01T00:00:00+00:00",
        "finished_at": None,
        "as_of": "2026-11-01T00:00:00+00:00",
        "error": HOSTILE,
    }


def test_runs_table_run_detail_and_cities_table_are_inert(consoles, tmp_path):
    report = {
        "portals": [
            {
                "platform": "socrata",
                "url": f"http://{HOSTILE}",
                "status": "failed",
                "error": HOSTILE,
                "assets": 0,
                "datasets": 0,
                "pages": 0,
                "warnings": [HOSTILE],
            },
        ],  # fmt: skip
        "criteria": [{"criterion_id": HOSTILE, "score": None, "status": HOSTILE}],
    }
    cliutil.stdout.print(runs_table([hostile_run()]))
    cliutil.stdout.print(run_detail(hostile_run(), report))
    config = tmp_path / "c.yaml"
    config.write_text(
        'cities:\n- id: a\n  name: "Evil [/] x [bold]loud\\e[31mred\\e]8;;http://evil\\alink\\a \\x9b31m"\n'
        "  portals:\n  - {platform: socrata, url: 'http://127.0.0.1:9'}\n"
    )
    cliutil.stdout.print(cities_table(load_cities(config).cities))
    output = consoles.getvalue()
    assert_inert(output)
    assert output.count("[/] x [bold]loud") >= 5


def test_report_paths_are_printed_inert(tmp_path, monkeypatch):
    monkeypatch.setenv("WWC_DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    warehouse = Warehouse()
    warehouse.migrate()
    run_id = warehouse.start_run("town", "Town", "rescan", "cli", datetime(2026, 11, 1, tzinfo=UTC))
    warehouse.record_scores(run_id, "town", [])
    warehouse.finish_run(run_id, "succeeded")
    out = tmp_path / "[bold]report\x1b[31m.json"
    result = runner.invoke(cli.app, ["report", "--city", "town", "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file()
    assert "\x1b" not in result.output and "[bold]report" in result.output


def squeezed(text: str) -> str:
    """Text without whitespace and table borders: a cell wrapped over lines reads as one string."""
    return "".join(text.replace("│", " ").split())


# --- runs: whole reasons, a detail view, unknown cities ---------------------------------------------


@pytest.fixture
def history(tmp_path, monkeypatch) -> dict:
    """A warehouse with a partial run: one portal harvested with warnings, one failed with a long reason."""
    monkeypatch.setenv("WWC_DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    warehouse = Warehouse()
    warehouse.migrate()
    as_of = datetime(2026, 11, 1, tzinfo=UTC)
    reason = "GET http://127.0.0.1:9/api/catalog/v1 failed: " + "very " * 30 + "long reason ends HERE"
    run_id = warehouse.start_run("town", "Town", "rescan", "cli", as_of)
    snapshot = CatalogSnapshot(
        platform="ckan", portal="http://127.0.0.1:8", records=[], assets=0, pages=1,
        warnings=["server counts 5000 items, paging returned 3"],
    )  # fmt: skip
    warehouse.record_portal(run_id, "town", "ckan", "http://127.0.0.1:8", snapshot, [])
    warehouse.record_portal_failure(run_id, "town", "socrata", "http://127.0.0.1:9", reason)
    warehouse.record_scores(run_id, "town", [])
    warehouse.finish_run(run_id, "partial", reason)
    return {"run_id": run_id, "reason": reason}


def test_runs_shows_the_whole_reason(history):
    result = runner.invoke(cli.app, ["runs"])
    assert result.exit_code == 0, result.output
    assert squeezed(history["reason"]) in squeezed(result.output)  # wrapped in its column, never cut


def test_runs_run_shows_portals_counts_reasons_and_warnings(history):
    result = runner.invoke(cli.app, ["runs", "--run", str(history["run_id"])])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    for words in ("partial", "http://127.0.0.1:8", "http://127.0.0.1:9", "failed", "complete"):
        assert words in flat
    assert squeezed(history["reason"]) in squeezed(result.output)
    assert "warning:servercounts5000items,pagingreturned3" in squeezed(result.output)


def test_runs_of_an_unknown_run_or_city_is_one_line_exit_2(history, tmp_path):
    result = runner.invoke(cli.app, ["runs", "--run", "999"])
    assert result.exit_code == 2 and "no run 999" in result.output
    config = tmp_path / "c.yaml"
    config.write_text(
        "cities:\n- id: quiet\n  name: Q\n  portals:\n  - {platform: ckan, url: 'http://127.0.0.1:9'}\n"
    )
    result = runner.invoke(cli.app, ["runs", "--city", "nosuch", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and "unknown city 'nosuch'" in result.output
    result = runner.invoke(
        cli.app, ["runs", "--city", "quiet", "--config", str(config)]
    )  # configured, no run yet
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli.app, ["runs", "--city", "town"])  # in the warehouse
    assert result.exit_code == 0 and "town" in result.output


def test_bad_config_prints_one_line_per_problem_and_exits_2(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(
        "schedule: {cron: 'every night', timezone: Atlantis}\n"
        "cities:\n- id: a\n  name: A\n  portals:\n  - {platform: sharepoint, url: 'http://x'}\n"
    )
    result = runner.invoke(cli.app, ["cities", "--config", str(config)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("error: ") for line in lines)
    assert "Traceback" not in result.output


def test_nightly_against_a_portal_answering_markup_prints_its_summary(prefect_harness, tmp_path):
    """A real `wwc nightly` process: the portal's `{"error": "[/] x ..."}` is the reason, shown as is."""
    import json
    import os
    import subprocess
    import sys
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from prefect.settings import PREFECT_API_URL

    class Hostile(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = json.dumps({"error": HOSTILE}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        config = tmp_path / "cities.yaml"
        config.write_text(
            f"cities:\n- id: evil\n  name: Evil\n  portals:\n  - {{platform: socrata, url: '{url}'}}\n"
        )
        env = {
            **os.environ,
            "PREFECT_API_URL": PREFECT_API_URL.value(),
            "WWC_DATA_DIR": str(tmp_path),
            "WWC_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
        }
        command = [sys.executable, "-m", "wwc_pipeline.cli", "nightly", "--config", str(config)]
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 1, result.stderr
    assert_inert(result.stdout + result.stderr)
    assert "evil" in result.stdout and "failed" in result.stdout  # the summary table
    assert "error: 1 of 1 cities failed: evil" in result.stderr


def test_a_national_run_shows_finished_portals_as_a_count(consoles, monkeypatch):
    """Once more than `ROWS_SHOWN` portals have been seen, a finished portal leaves the display
    and is counted; portals finished before that and portals under way keep their rows."""
    monkeypatch.setattr(cliutil, "ROWS_SHOWN", 2)
    with cliutil.live_progress():
        for number in (1, 2):
            progress.report("page", portal=f"http://p{number}", pages=1, records=10)
            progress.report("portal", portal=f"http://p{number}", state="done", datasets=10)
        for number in (3, 4, 5):
            progress.report("page", portal=f"http://p{number}", pages=1, records=10)
        progress.report("portal", portal="http://p3", state="done", datasets=10)
        progress.report("portal", portal="http://p4", state="failed", error="down")
    output = consoles.getvalue()
    assert "portals: 3 done, 1 failed, 1 under way" in output
    assert "http://p1: done (10 datasets)" in output and "http://p2: done (10 datasets)" in output
    assert "http://p3:" not in output and "http://p4:" not in output
    assert "http://p5: page 1, 10 records" in output
