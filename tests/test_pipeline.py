"""The plain pipeline (no Prefect): a city with two portals of different platforms."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wwc_pipeline.config import CityConfig, PortalConfig, load_criteria
from wwc_pipeline.http import HttpClient
from wwc_pipeline.pipeline import scan_city
from wwc_pipeline.simulator import Faults, GeneratedCatalog, PortalSimulator
from wwc_pipeline.warehouse import Warehouse

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def test_a_city_with_two_portals_is_scored_over_both_with_a_breakdown(tmp_path):
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    warehouse.migrate()
    with PortalSimulator() as sim:
        hub = sim.add_portal(platform="dcat", catalog=GeneratedCatalog(size=40, seed=1, as_of=AS_OF))
        ods = sim.add_portal(platform="opendatasoft", catalog=GeneratedCatalog(size=30, seed=2, as_of=AS_OF))
        city = CityConfig(
            id="twin",
            name="Twin Falls",
            portals=[
                PortalConfig(platform="dcat", url=hub.url),
                PortalConfig(platform="opendatasoft", url=ods.url),
            ],
        )
        with HttpClient(min_interval=0) as client:
            result = scan_city(
                city, warehouse=warehouse, criteria=load_criteria(), client=client, as_of=AS_OF
            )
    assert result.status == "succeeded"
    report = warehouse.city_report("twin")
    assert {p["platform"] for p in report["portals"]} == {"dcat", "opendatasoft"}
    datasets_per_portal = {p["url"]: p["datasets"] for p in report["portals"]}
    metadata = next(row for row in report["criteria"] if row["criterion_id"] == "MEASURE-OD-METADATA")
    assert set(metadata["portal_breakdown"]) == {hub.url, ods.url}
    counts = metadata["counts"]["has_description"]
    assert counts["pass"] + counts["fail"] + counts["na"] == sum(datasets_per_portal.values())
    # the city's dictionary score comes from ODS alone: DCAT gives no column lists (n/a, not fail)
    dictionary = next(row for row in report["criteria"] if row["criterion_id"] == "MEASURE-OD-DICTIONARY")
    assert dictionary["counts"]["columns_documented"]["na"] >= datasets_per_portal[hub.url]
    assert dictionary["portal_breakdown"][hub.url]["status"] == "insufficient evidence"


def test_one_portal_down_makes_the_run_partial_and_keeps_the_other(tmp_path):
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    warehouse.migrate()
    with PortalSimulator() as sim:
        good = sim.add_portal(platform="ckan", catalog=GeneratedCatalog(size=20, seed=3, as_of=AS_OF))
        bad = sim.add_portal(
            platform="socrata", catalog=GeneratedCatalog(size=20, seed=4), faults=Faults(down=True)
        )
        city = CityConfig(
            id="half",
            name="Half",
            portals=[
                PortalConfig(platform="ckan", url=good.url),
                PortalConfig(platform="socrata", url=bad.url),
            ],
        )
        with HttpClient(min_interval=0, max_attempts=2, backoff=0.01) as client:
            result = scan_city(
                city, warehouse=warehouse, criteria=load_criteria(), client=client, as_of=AS_OF
            )
    assert result.status == "partial"
    assert list(result.failed_portals) == [bad.url]
    assert "503" in result.failed_portals[bad.url]
    report = warehouse.city_report("half")
    statuses = {p["url"]: p["status"] for p in report["portals"]}
    assert statuses[good.url] == "complete" and statuses[bad.url] == "failed"
    metadata = next(row for row in report["criteria"] if row["criterion_id"] == "MEASURE-OD-METADATA")
    assert "could not be harvested" in metadata["evidence"]


def test_an_interrupted_run_is_recorded_as_failed_not_left_running(tmp_path, monkeypatch):
    from wwc_pipeline import pipeline

    warehouse = Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    warehouse.migrate()

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "harvest_portal", interrupt)
    city = CityConfig(
        id="ctrlc", name="Ctrl C", portals=[PortalConfig(platform="ckan", url="http://127.0.0.1:9")]
    )
    with pytest.raises(KeyboardInterrupt):
        scan_city(city, warehouse=warehouse, criteria=load_criteria(), client=None, as_of=AS_OF)
    [run] = warehouse.runs(city_id="ctrlc")
    assert run["status"] == "failed"
    assert "interrupted" in run["error"]
    assert run["finished_at"] is not None
