"""`wwc backfill` and `wwc history` as a user runs them; as-of order when older snapshots come last."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import REAL_PORTALS
from wwc_pipeline.cli import app
from wwc_pipeline.config import load_criteria
from wwc_pipeline.history.backfill import backfill_city
from wwc_pipeline.model import CatalogSnapshot, Column, DatasetRecord
from wwc_pipeline.warehouse import Warehouse

HISTORY = REAL_PORTALS / "history" / "minneapolis"
HUB = "https://opendata.minneapolismn.gov"
CITIES = f"""
schedule: {{cron: "0 3 * * *", timezone: UTC}}
cities:
  - id: minneapolis
    name: City of Minneapolis
    portals:
      - {{platform: dcat, url: "{HUB}"}}
"""
runner = CliRunner()


def snapshots(tmp_path: Path, *names: str) -> Path:
    """A folder of some of the real snapshots (copied for the test only), named YYYYMMDD.json."""
    if not HISTORY.is_dir():
        pytest.skip(f"{HISTORY} not found (../shared absent)")
    folder = tmp_path / "snapshots"
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(HISTORY / name, folder / name)
    return folder


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WWC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("WWC_DATABASE_URL", raising=False)
    config = tmp_path / "cities.yaml"
    config.write_text(CITIES)
    return config


def wwc(*args: str):
    return runner.invoke(app, list(args))


@pytest.mark.contract
def test_backfill_twice_then_history(tmp_path: Path, cli_env: Path) -> None:
    folder = snapshots(tmp_path, "20210326.json", "20210622.json")
    first = wwc("backfill", "--city", "minneapolis", "--snapshots", str(folder), "--config", str(cli_env))
    assert first.exit_code == 0, first.output
    assert "2 loaded, 0 already loaded, 0 skipped" in first.output
    again = wwc("backfill", "--city", "minneapolis", "--snapshots", str(folder), "--config", str(cli_env))
    assert again.exit_code == 0 and "0 loaded, 2 already loaded, 0 skipped" in again.output
    shown = wwc("history", "--city", "minneapolis", "--json")
    assert shown.exit_code == 0, shown.output
    trend = json.loads(shown.output)["trend"]
    # entries: 159 and 161 in MANIFEST.tsv; the same as the raw files' dataset lists
    counts = [
        len(json.loads((folder / n).read_text())["dataset"]) for n in ("20210326.json", "20210622.json")
    ]
    assert [p["datasets"] for p in trend] == counts == [159, 161]
    table = wwc("history", "--city", "minneapolis")
    assert table.exit_code == 0 and "(observed)" in table.output and "2021-06-22" in table.output


@pytest.mark.contract
def test_bad_files_are_one_line_each_and_the_rest_load(tmp_path: Path, cli_env: Path) -> None:
    folder = snapshots(tmp_path, "20210326.json")
    (folder / "20210401.json").write_text('{"dataset": [')  # cut short
    (folder / "20211331.json").write_text("{}")  # no such date
    (folder / "20210501.json").write_text('{"hello": "world"}')  # no known shape
    result = wwc("backfill", "--city", "minneapolis", "--snapshots", str(folder), "--config", str(cli_env))
    assert result.exit_code == 1
    skipped = [line for line in result.output.splitlines() if line.startswith("skipped:")]
    assert [line.split(":")[1].strip() for line in skipped] == [
        "20211331.json",
        "20210401.json",
        "20210501.json",
    ]
    assert "1 loaded, 0 already loaded, 3 skipped" in result.output
    assert "Traceback" not in result.output


def test_usage_errors_are_one_line(tmp_path: Path, cli_env: Path) -> None:
    unknown = wwc("backfill", "--city", "atlantis", "--snapshots", str(tmp_path), "--config", str(cli_env))
    assert unknown.exit_code == 2 and "unknown city 'atlantis'" in unknown.output
    missing = wwc(
        "backfill", "--city", "minneapolis", "--snapshots", str(tmp_path / "no"), "--config", str(cli_env)
    )
    assert missing.exit_code == 2 and "snapshot directory" in missing.output
    portal = wwc(
        "backfill",
        "--city",
        "minneapolis",
        "--snapshots",
        str(tmp_path),
        "--portal",
        "https://x.org",
        "--config",
        str(cli_env),
    )
    assert portal.exit_code == 2 and "--portal https://x.org is not a portal of minneapolis" in portal.output
    nothing = wwc("history", "--city", "minneapolis")
    assert nothing.exit_code == 2 and "no completed run for city minneapolis" in nothing.output
    for result in (unknown, missing, portal, nothing):
        assert len([line for line in result.output.splitlines() if line.strip()]) == 1


@pytest.mark.contract
def test_older_snapshots_loaded_after_newer_runs_take_their_place_in_as_of_order(tmp_path: Path) -> None:
    """The 2022 snapshot first (as a nightly run would have been), then three older ones."""
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    warehouse.migrate()
    from wwc_pipeline.config import CityConfig

    city = CityConfig(id="minneapolis", name="Minneapolis", portals=[{"platform": "dcat", "url": HUB}])
    newest = snapshots(tmp_path / "a", "20220616.json")
    backfill_city(city, newest, warehouse=warehouse, criteria=load_criteria())
    older = snapshots(tmp_path / "b", "20210326.json", "20210622.json", "20211122.json")
    result = backfill_city(city, older, warehouse=warehouse, criteria=load_criteria())
    assert [item["run_id"] for item in result.loaded] == [2, 3, 4]
    trend = warehouse.city_trend("minneapolis")
    assert [p["run_id"] for p in trend] == [2, 3, 4, 1]
    assert [p["datasets"] for p in trend] == [159, 161, 177, 213]  # MANIFEST.tsv entries
    assert warehouse.latest_run("minneapolis")["id"] == 1  # the latest by as-of, inserted first
    report = warehouse.city_report("minneapolis")
    assert report["run"]["id"] == 1
    [portal] = report["history"]["changes"]
    assert portal["previous_run_id"] == 4  # 2021-11-22, loaded after it


def test_previous_columns_follow_as_of_order(tmp_path: Path) -> None:
    """Schema drift compares with the run before in as-of order, not the one inserted last."""
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    warehouse.migrate()

    def write(as_of: datetime, columns: list[str]) -> int:
        run_id = warehouse.start_run("c", "C", "rescan", "cli", as_of)
        record = DatasetRecord("socrata", "d", "aaaa-0001", columns=[Column(name) for name in columns])
        snapshot = CatalogSnapshot("socrata", "https://d", [record], assets=1)
        warehouse.record_portal(run_id, "c", "socrata", "https://d", snapshot, [])
        warehouse.finish_run(run_id, "succeeded")
        return run_id

    write(datetime(2020, 1, 1, tzinfo=UTC), ["a"])
    write(datetime(2019, 1, 1, tzinfo=UTC), ["b"])  # an older snapshot, loaded later
    later = warehouse.start_run("c", "C", "rescan", "cli", datetime(2021, 1, 1, tzinfo=UTC))
    between = warehouse.start_run("c", "C", "backfill", "cli", datetime(2019, 6, 1, tzinfo=UTC))
    assert warehouse.previous_columns("c", "socrata", "https://d", before_run_id=later) == {
        "aaaa-0001": ["a"]
    }
    assert warehouse.previous_columns("c", "socrata", "https://d", before_run_id=between) == {
        "aaaa-0001": ["b"]
    }
