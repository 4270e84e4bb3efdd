"""End to end on loopback: the nightly flow over simulated cities, twice; a city that is down."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml

from wwc_pipeline.simulator import Faults, GeneratedCatalog, PortalSimulator

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("WWC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WWC_DATABASE_URL", f"sqlite:///{tmp_path / 'warehouse.db'}")
    # the same request tries as by default, 0.05 s apart instead of 1, 2, 4 s (a `wwc` process
    # started here inherits it): a down portal fails in well under a second, not in 7 s a try
    monkeypatch.setenv("WWC_HTTP_RETRY_BACKOFF_S", "0.05")
    return tmp_path


def write_cities(path, portals: dict[str, list]) -> str:
    cities = [
        {
            "id": city_id,
            "name": city_id.title(),
            # 5 datasets' rows each (default 25): these tests are about the flows, not row quality
            "portals": [{"platform": p.platform, "url": p.url, "sample_datasets": 5} for p in ps],
        }
        for city_id, ps in portals.items()
    ]
    file = path / "cities.yaml"
    # a portal's task retry (portal_retries: 1) at once, not 10 s later: the same tries, no wait
    document = {"concurrency": {"portal_retry_delay_s": 0}, "cities": cities}
    file.write_text(yaml.safe_dump(document))
    return str(file)


class SimPortal:
    def __init__(self, platform: str, url: str):
        self.platform, self.url = platform, url


def test_two_nightly_runs_over_an_unchanged_catalog(prefect_harness, data_dir):
    from wwc_pipeline.flows.nightly import nightly_scan

    from wwc_pipeline.warehouse import Warehouse

    with PortalSimulator() as sim:
        good = sim.add_portal(platform="socrata", catalog=GeneratedCatalog(size=120, seed=3, as_of=AS_OF))
        poor = sim.add_portal(
            platform="socrata",
            catalog=GeneratedCatalog(
                size=40, seed=4, share_stale=0.6, share_missing_metadata=0.5, as_of=AS_OF
            ),
        )
        cities = write_cities(
            data_dir, {"alpha": [SimPortal("socrata", good.url)], "beta": [SimPortal("socrata", poor.url)]}
        )
        first = nightly_scan(cities_file=cities, trigger="cli", as_of=AS_OF)
        warehouse = Warehouse()
        versions_after_first = warehouse.count_rows("dataset_versions")
        second = nightly_scan(cities_file=cities, trigger="cli", as_of=AS_OF)

    assert {s["status"] for s in first.values()} == {"succeeded"}
    assert len(warehouse.runs(city_id="alpha")) == 2
    assert versions_after_first > 0
    assert warehouse.count_rows("dataset_versions") == versions_after_first
    for city in ("alpha", "beta"):
        # TAKESTOCK-QUALITY also averages schema drift, which needs a previous run: compare its parts
        assert {k: v for k, v in first[city]["scores"].items() if k != "TAKESTOCK-QUALITY"} == {
            k: v for k, v in second[city]["scores"].items() if k != "TAKESTOCK-QUALITY"
        }
        reports = [warehouse.city_report(city, run[city]["run_id"]) for run in (first, second)]
        checks = [{row["check_id"]: row for row in report["portal_checks"]} for report in reports]
        # the same seeded sample of rows, the same findings; and no column changed
        assert checks[0]["content.quality"]["value"] == checks[1]["content.quality"]["value"]
        assert checks[0]["content.quality"]["value"]["validated"] > 0
        assert checks[1]["content.schema_drift"]["value"]["score"] == 100.0
    # the better-kept city scores higher on metadata
    assert (
        first["alpha"]["scores"]["MEASURE-OD-METADATA"][0] > first["beta"]["scores"]["MEASURE-OD-METADATA"][0]
    )
    report = warehouse.city_report("alpha")
    assert report["run"]["id"] == second["alpha"]["run_id"]
    assert len(report["criteria"]) >= 10


def test_a_city_that_is_down_fails_alone(prefect_harness, data_dir):
    from wwc_pipeline.flows.errors import CityScanFailed
    from wwc_pipeline.flows.nightly import nightly_scan

    from wwc_pipeline.warehouse import Warehouse

    with PortalSimulator() as sim:
        up = sim.add_portal(platform="socrata", catalog=GeneratedCatalog(size=30, seed=5, as_of=AS_OF))
        down = sim.add_portal(
            platform="socrata",
            catalog=GeneratedCatalog(size=30, seed=6, as_of=AS_OF),
            faults=Faults(down=True),
        )
        cities = write_cities(
            data_dir, {"up": [SimPortal("socrata", up.url)], "down": [SimPortal("socrata", down.url)]}
        )
        with pytest.raises(CityScanFailed) as raised:
            nightly_scan(cities_file=cities, trigger="cli", as_of=AS_OF)

    assert "down" in str(raised.value)
    assert raised.value.summaries["up"]["status"] == "succeeded"
    warehouse = Warehouse()
    [down_run] = warehouse.runs(city_id="down")
    assert down_run["status"] == "failed"
    assert down_run["error"]
    [up_run] = warehouse.runs(city_id="up")
    assert up_run["status"] == "succeeded"


def test_cli_nightly_names_the_failed_city_and_exits_non_zero(prefect_harness, data_dir):
    """`wwc nightly` as an operator runs it (a real process): exit 1, the failed city named, no traceback."""
    import os
    import subprocess
    import sys

    from prefect.settings import PREFECT_API_URL

    with PortalSimulator() as sim:
        up = sim.add_portal(platform="ckan", catalog=GeneratedCatalog(size=20, seed=7, as_of=AS_OF))
        down = sim.add_portal(
            platform="dcat", catalog=GeneratedCatalog(size=20, seed=8), faults=Faults(down=True)
        )
        cities = write_cities(
            data_dir, {"okcity": [SimPortal("ckan", up.url)], "gone": [SimPortal("dcat", down.url)]}
        )
        env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
        command = [sys.executable, "-m", "wwc_pipeline.cli", "nightly", "--config", cities]
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 1, result.stderr
    assert "1 of 2 cities failed: gone" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "okcity" in result.stdout and "succeeded" in result.stdout


def test_each_run_publishes_a_markdown_artifact_of_scores(prefect_harness, data_dir):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from wwc_pipeline.flows.portal_tasks import artifact_key
    from wwc_pipeline.flows.rescan import rescan_city

    with PortalSimulator() as sim:
        portal = sim.add_portal(
            platform="opendatasoft", catalog=GeneratedCatalog(size=25, seed=2, as_of=AS_OF)
        )
        cities = write_cities(data_dir, {"ods_town": [SimPortal("opendatasoft", portal.url)]})
        summary = rescan_city("ods_town", cities_file=cities, as_of=AS_OF)
    assert summary["status"] == "succeeded"
    key = artifact_key("ods_town")
    assert key == "wwc-ods-town"
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
    assert artifacts, "no artifact published"
    markdown = artifacts[0].data
    assert "MEASURE-OD-METADATA" in markdown
    assert "TAKESTOCK-FRESH" in markdown


def test_serve_defines_the_deployments_with_the_configured_cron():
    from wwc_pipeline.flows.deployments import build_deployments

    from wwc_pipeline.config import load_cities

    config = load_cities()
    nightly, rescan, retry = build_deployments(config)
    assert nightly.name == "nightly-scan"
    assert rescan.name == "rescan-city"
    assert retry.name == "retry-portals"
    assert nightly.schedules[0].schedule.cron == config.schedule.cron
    assert not rescan.schedules and not retry.schedules


def test_demo_writes_the_warehouse_a_report_per_city_and_an_index(prefect_harness, tmp_path, monkeypatch):
    from wwc_pipeline.flows.nightly import nightly_scan

    from wwc_pipeline.demo import DEMO_CITIES, run_demo

    monkeypatch.setenv("WWC_DATA_DIR", str(tmp_path))  # run_demo sets its own; restored after
    monkeypatch.setenv("WWC_DATABASE_URL", "sqlite:///unused.db")
    index = run_demo(tmp_path / "demo", nightly_scan, scale=0.05, nights=2)
    assert (tmp_path / "demo" / "warehouse.db").is_file()
    assert {entry["city_id"] for entry in index["cities"]} == set(DEMO_CITIES)
    platforms = {portal.platform for _, portals in DEMO_CITIES.values() for portal in portals}
    assert platforms == {"socrata", "ckan", "dcat", "opendatasoft"}
    assert any(len(portals) > 1 for _, portals in DEMO_CITIES.values())
    page = (tmp_path / "demo" / "index.html").read_text()
    for entry in index["cities"]:
        assert entry["status"] == "succeeded"
        report = tmp_path / "demo" / entry["path"]
        assert report.is_file() and "MEASURE-OD-METADATA" in report.read_text()
        assert f'href="{report.relative_to(tmp_path / "demo")}"' in page
    # the demo's cities differ in row quality: the clean one scores 100, every dirty one below
    from wwc_pipeline.warehouse import Warehouse

    warehouse = Warehouse(f"sqlite:///{tmp_path / 'demo' / 'warehouse.db'}")
    quality = {}
    for entry in index["cities"]:
        criteria = warehouse.city_report(entry["city_id"], entry["run_id"])["criteria"]
        quality[entry["city_id"]] = next(c for c in criteria if c["criterion_id"] == "TAKESTOCK-QUALITY")
    clean = {city for city, (_, portals) in DEMO_CITIES.items() if all(p.share_dirty == 0 for p in portals)}
    assert clean and clean != set(DEMO_CITIES)
    for city, row in quality.items():
        if city in clean:
            assert row["score"] == 100.0 and row["status"] == "met", row["evidence"]
        else:
            assert row["score"] is not None and row["score"] < 100.0, (city, row["evidence"])
    # the demo makes history: two runs per city, a day apart, the last one the report's
    for entry in index["cities"]:
        trend = warehouse.city_report(entry["city_id"], entry["run_id"])["score_trend"]
        assert len(trend) == 2 and trend[-1]["run_id"] == entry["run_id"]
        first, last = (datetime.fromisoformat(point["as_of"]) for point in trend)
        assert round((last - first).total_seconds() / 3600) == 24
