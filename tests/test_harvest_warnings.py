"""Harvest anomalies reach the reviewer: console, HTML, JSON; MEASURE-OD-PORTAL is not "met" on them.

Over HTTP with the simulator: a portal that misreports its total (fault `reported_total`), a
portal that answers with an empty catalog, and a real feed whose identifiers repeat.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import pytest
import yaml
from typer.testing import CliRunner

from wwc_pipeline.cli import app
from wwc_pipeline.config import CityConfig, PortalConfig, load_criteria
from wwc_pipeline.http import HttpClient
from wwc_pipeline.paging import count_drift
from wwc_pipeline.pipeline import harvest_portal, scan_city
from wwc_pipeline.reports import render_html, render_json
from wwc_pipeline.simulator import Faults, GeneratedCatalog, PortalSimulator, RecordedCatalog
from wwc_pipeline.warehouse import Warehouse

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
PORTAL_CRITERION = "MEASURE-OD-PORTAL"


def quick_portal(platform: str, url: str) -> PortalConfig:
    """No row samples, no link probes: these tests are about the catalog."""
    return PortalConfig(platform=platform, url=url, sample_datasets=0, check_links=0)


def scan(tmp_path, platform: str, catalog, faults: Faults | None = None):
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    warehouse.migrate()
    with PortalSimulator() as sim:
        portal = sim.add_portal(platform=platform, catalog=catalog, faults=faults)
        city = CityConfig(id="anomaly", name="Anomaly", portals=[quick_portal(platform, portal.url)])
        with HttpClient(min_interval=0) as client:
            result = scan_city(
                city, warehouse=warehouse, criteria=load_criteria(), client=client, as_of=AS_OF
            )
    return result, warehouse.city_report("anomaly", result.run_id), portal.url


def portal_row(report: dict) -> dict:
    [row] = [c for c in report["criteria"] if c["criterion_id"] == PORTAL_CRITERION]
    return row


def assert_warning_everywhere(report: dict, url: str, words: str) -> None:
    """In the JSON (beside the portal), in the HTML (portal table and every assessable criterion)."""
    data = json.loads(render_json(report))
    [portal] = [p for p in data["portals"] if p["url"] == url]
    assert any(words in warning for warning in portal["warnings"]), portal["warnings"]
    html = render_html(report)
    assessable = [c for c in report["criteria"] if c["status"] != "not assessable by scan"]
    assert html.count(words) >= 1 + len(assessable)  # the portal table, then each criterion's box
    assert html.count("Harvest warnings behind this score") == len(assessable)


@pytest.mark.parametrize("platform", ["socrata", "ckan", "opendatasoft"])
def test_a_portal_that_misreports_its_total_is_warned_and_not_met(tmp_path, platform):
    catalog = GeneratedCatalog(size=12, seed=5, as_of=AS_OF)
    result, report, url = scan(tmp_path, platform, catalog, Faults(reported_total=5000))
    assert result.status == "succeeded"  # the datasets that came are scored; the run says what is off
    served = report["portals"][0]["assets"]
    assert served < 50
    words = f"server counts 5000 items, paging returned {served}"
    assert any(words in warning for warning in result.warnings[url])
    row = portal_row(report)
    assert row["status"] != "met"
    assert "the portal counts 5000 entries" in row["evidence"]
    assert_warning_everywhere(report, url, words)


def test_the_same_portal_with_its_true_total_is_met(tmp_path):
    """The control: without the fault the harvest check passes and the criterion is met."""
    result, report, url = scan(tmp_path, "socrata", GeneratedCatalog(size=12, seed=5, as_of=AS_OF))
    assert url not in result.warnings
    assert portal_row(report)["status"] == "met"
    assert "Harvest warnings" not in render_html(report)


@pytest.mark.parametrize("platform", ["socrata", "ckan", "dcat", "opendatasoft"])
def test_an_empty_catalog_is_warned_and_not_met(tmp_path, platform):
    catalog = GeneratedCatalog(size=0, seed=6, as_of=AS_OF, include_policy=False)
    result, report, url = scan(tmp_path, platform, catalog)
    assert report["portals"][0]["datasets"] == 0
    assert any("lists no entries" in warning for warning in result.warnings[url]), result.warnings
    assert portal_row(report)["status"] == "not met"
    assert_warning_everywhere(report, url, "lists no entries")


def test_count_mismatch_and_empty_catalog_reach_the_console(prefect_harness, tmp_path, monkeypatch):
    """`wwc nightly` prints each harvest warning, naming the city and the portal."""
    monkeypatch.setenv("WWC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WWC_DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    with PortalSimulator() as sim:
        lying = sim.add_portal(
            platform="socrata", catalog=GeneratedCatalog(size=8, seed=7), faults=Faults(reported_total=5000)
        )
        empty = sim.add_portal(platform="ckan", catalog=GeneratedCatalog(size=0, include_policy=False))
        cities = {
            "cities": [
                {"id": "liar", "name": "Liar", "portals": [quick_portal("socrata", lying.url).model_dump()]},
                {"id": "void", "name": "Void", "portals": [quick_portal("ckan", empty.url).model_dump()]},
            ]
        }
        config = tmp_path / "cities.yaml"
        config.write_text(yaml.safe_dump(cities))
        result = CliRunner().invoke(app, ["nightly", "--config", str(config)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning: ")]
    assert any(line.startswith(f"warning: liar {lying.url}: server counts 5000 items") for line in warnings)
    assert any(
        line.startswith(f"warning: void {empty.url}: ") and "lists no entries" in line for line in warnings
    )


def test_repeated_identifiers_in_one_feed_are_kept_and_warned(real_portals):
    """healthdata.gov's data.json repeats identifiers; every entry is kept, the repeats are named."""
    path = real_portals / "dcat-healthdata-gov-20190703.json"
    if not path.is_file():
        pytest.skip(f"{path} absent")
    raw = json.loads(path.read_text())
    entries = raw["dataset"] if isinstance(raw, dict) else raw
    counts = Counter(entry.get("identifier") for entry in entries if isinstance(entry, dict))
    repeated = {identifier: n for identifier, n in counts.items() if n > 1}
    assert repeated, "the file was expected to repeat identifiers"
    with PortalSimulator() as sim:
        portal = sim.add_portal(platform="dcat", catalog=RecordedCatalog(path))
        with HttpClient(min_interval=0) as client:
            snapshot = harvest_portal(quick_portal("dcat", portal.url), client)
    assert len(snapshot.records) == len(entries)
    extra = sum(n - 1 for n in repeated.values())
    assert any(
        f"{len(repeated)} ids appear more than once ({extra} repeated entries" in w for w in snapshot.warnings
    )
    assert snapshot.status == "complete_with_warnings"


def test_count_drift_has_a_small_tolerance():
    assert count_drift(None, 3) is None
    assert count_drift(1000, 1000) is None
    assert count_drift(1000, 996) is None  # 0.4 %: entries added or removed while paging
    assert count_drift(1000, 990) == "server counts 1000 items, paging returned 990"
    assert count_drift(12, 11) == "server counts 12 items, paging returned 11"
    assert count_drift(5000, 3) == "server counts 5000 items, paging returned 3"
