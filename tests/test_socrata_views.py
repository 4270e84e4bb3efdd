"""Socrata domains reachable only through `/api/views.json` (PLATFORMS.md §1.3).

The NYC 2013 views file served by the simulator (whose Discovery API then answers 404), and
small loopback fakes for the other answers: a Discovery API that lists nothing, a views list
sent whole whatever the page, a portal with neither.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import wwc_pipeline.connectors.socrata as socrata

from tests import test_harvest_pitfalls as pitfalls
from tests.conftest import REAL_PORTALS
from tests.test_harvest_pitfalls import Fake, Reply, config, harvest_all, warnings_of
from wwc_pipeline.config import CityConfig, PortalConfig, load_criteria
from wwc_pipeline.evaluate import evaluate_records
from wwc_pipeline.http import HttpClient, HttpError
from wwc_pipeline.offline import evaluate_files
from wwc_pipeline.pipeline import harvest_portal, scan_city
from wwc_pipeline.simulator import PortalSimulator, RecordedCatalog
from wwc_pipeline.warehouse import Warehouse

NYC_VIEWS = "socrata-views-nyc-20130414-a"
fake, client, waits = pitfalls.fake, pitfalls.client, pitfalls.waits  # loopback fake portal fixtures


def nyc_views_file():
    path = REAL_PORTALS / f"{NYC_VIEWS}.json"
    if not path.is_file():
        pytest.skip(f"{path} absent (../shared/real-portals)")
    return path


def expected_summary() -> dict:
    return json.loads((REAL_PORTALS / "expected" / f"{NYC_VIEWS}.summary.json").read_text())


@pytest.mark.contract
def test_nyc_views_served_through_views_json_only_harvest_every_dataset_with_the_file_metrics():
    path = nyc_views_file()
    views = json.loads(path.read_text())  # the raw file, read independently of the connector
    summary = expected_summary()
    as_of = datetime.fromisoformat(summary["as_of"]).astimezone(UTC)
    with PortalSimulator() as sim, HttpClient(min_interval=0) as client:
        portal = sim.add_portal(platform="socrata", catalog=RecordedCatalog(path))
        snapshot = harvest_portal(PortalConfig(platform="socrata", url=portal.url), client)
        requests = list(portal.requests)
    assert [record.dataset_id for record in snapshot.records] == [view["id"] for view in views]
    catalog_calls = [r for r in requests if r.path in ("/api/catalog/v1", "/api/views.json")]
    assert catalog_calls[0].path == "/api/catalog/v1" and catalog_calls[0].status == 404
    pages = [r.query for r in catalog_calls[1:]]
    assert [q["page"] for q in pages] == [[str(n)] for n in range(1, len(pages) + 1)]
    assert all(q["limit"] == ["100"] for q in pages) and len(pages) == -(-len(views) // 100)
    assert any("read from /api/views.json" in warning for warning in snapshot.warnings)

    live = evaluate_records(snapshot.records, as_of, "socrata", None)
    offline, details = evaluate_files([path], "auto", as_of)
    assert (
        (live.assets, live.datasets)
        == (offline["assets"], offline["datasets"])
        == (
            summary["assets"],
            summary["datasets"],
        )
    )
    assert live.metrics == offline["metrics"] == summary["metrics"]
    expected_lines = [
        json.loads(line) for line in (REAL_PORTALS / "expected" / f"{NYC_VIEWS}.details.jsonl").open()
    ]
    live_lines = [d.details_line() for d in live.dataset_evaluations]
    assert len(live_lines) == len(details) == len(expected_lines)
    for got_live, got_offline, want in zip(live_lines, details, expected_lines, strict=True):
        assert got_live == pytest.approx(want) and got_offline == pytest.approx(want), want["dataset_id"]


@pytest.mark.contract
def test_a_scan_of_the_views_only_domain_succeeds_with_every_dataset(tmp_path):
    path = nyc_views_file()
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    warehouse.migrate()
    as_of = datetime(2013, 4, 14, tzinfo=UTC)
    with PortalSimulator() as sim, HttpClient(min_interval=0) as client:
        portal = sim.add_portal(platform="socrata", catalog=RecordedCatalog(path))
        city = CityConfig(
            id="nyc2013",
            name="New York 2013",
            portals=[PortalConfig(platform="socrata", url=portal.url, sample_datasets=0, check_links=0)],
        )
        result = scan_city(city, warehouse=warehouse, criteria=load_criteria(), client=client, as_of=as_of)
    assert result.status == "succeeded"
    report = warehouse.city_report("nyc2013", result.run_id)
    assert report["portals"][0]["datasets"] == expected_summary()["datasets"]
    [row] = [c for c in report["criteria"] if c["criterion_id"] == "MEASURE-OD-PORTAL"]
    assert row["score"] and row["score"] > 0


def view(n: int, **extra) -> dict:
    return {"id": f"abcd-{n:04d}", "name": f"View {n}", "viewType": "tabular", "flags": ["default"], **extra}


def views_app(views: list[dict], discovery: Reply, whole: bool = False):
    """`/api/views.json` pages by `limit` and 1-based `page` (or sends the whole list: `whole`)."""

    def app(path: str, query: dict[str, str]) -> Reply:
        if path == "/api/catalog/v1":
            return discovery
        if path != "/api/views.json":
            return Reply(404, {"error": "no such path"})
        if whole:
            return Reply(body=views)
        limit, page = int(query["limit"]), int(query["page"])
        return Reply(body=views[(page - 1) * limit : page * limit])

    return app


EMPTY_DISCOVERY = Reply(body={"results": [], "resultSetSize": 0, "timings": {}})


def test_a_discovery_api_listing_nothing_falls_back_to_the_views(fake: Fake, client: HttpClient) -> None:
    fake.app = views_app([view(n) for n in range(230)], EMPTY_DISCOVERY)
    records, pages = harvest_all(socrata, config(fake, "socrata"), client)
    assert [r.dataset_id for r in records] == [f"abcd-{n:04d}" for n in range(230)]
    assert all(r.is_dataset for r in records)
    assert [q.get("page") for p, q, _ in fake.seen if p == "/api/views.json"] == ["1", "2", "3"]
    assert any("lists no assets for this domain" in w for w in warnings_of(pages))


def test_a_views_list_sent_whole_whatever_the_page_is_read_once(fake: Fake, client: HttpClient) -> None:
    fake.app = views_app([view(n) for n in range(150)], Reply(404, {"error": "not found"}), whole=True)
    records, _ = harvest_all(socrata, config(fake, "socrata"), client)
    assert len(records) == 150 and len({r.dataset_id for r in records}) == 150
    assert [p for p, _, _ in fake.seen].count("/api/views.json") == 1


def test_an_empty_discovery_answer_without_views_is_an_empty_catalog_with_warnings(
    fake: Fake, client: HttpClient
) -> None:
    fake.app = lambda path, query: (
        EMPTY_DISCOVERY if path == "/api/catalog/v1" else Reply(404, {"error": "x"})
    )
    records, pages = harvest_all(socrata, config(fake, "socrata"), client)
    assert records == []
    warnings = warnings_of(pages)
    assert any("no assets for domains=" in w for w in warnings)
    assert any("/api/views.json is not available either" in w for w in warnings)


def test_neither_api_there_is_one_error_naming_both(fake: Fake, client: HttpClient) -> None:
    fake.app = lambda path, query: Reply(404, {"error": "not found"})
    with pytest.raises(HttpError) as caught:
        harvest_all(socrata, config(fake, "socrata"), client)
    message = str(caught.value)
    assert (
        "\n" not in message and "/api/catalog/v1" in message and "/api/views.json did not answer" in message
    )


def test_a_discovery_api_that_is_down_does_not_fall_back(fake: Fake, client: HttpClient) -> None:
    """A 503 is an outage, not an absent API: the harvest fails rather than read another list."""
    fake.app = views_app([view(1)], Reply(503, {"error": "down"}))
    with pytest.raises(HttpError, match="503"):
        harvest_all(socrata, config(fake, "socrata"), client)
    assert "/api/views.json" not in [p for p, _, _ in fake.seen]
