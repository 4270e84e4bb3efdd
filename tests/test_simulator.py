"""The portal simulator: real clients unchanged, documented limits, faults, determinism, replay."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import ckanapi
import pytest
import requests
from requests.adapters import HTTPAdapter
from sodapy import Socrata

from tests.conftest import REAL_PORTALS
from wwc_pipeline.simulator import Faults, GeneratedCatalog, PortalSimulator, RecordedCatalog

AS_OF = datetime(2024, 3, 1, tzinfo=UTC)
DISCOVERY = "/api/catalog/v1"
CKAN_SEARCH = "/api/3/action/package_search"
ODS_CATALOG = "/api/explore/v2.1/catalog/datasets"
CATALOG_PATHS = {
    "socrata": DISCOVERY + "?limit=10000",
    "ckan": CKAN_SEARCH + "?rows=1000",
    "dcat": "/data.json",
    "opendatasoft": "/api/explore/v2.1/catalog/exports/json",
}


@pytest.fixture
def sim():
    logging.getLogger().setLevel(logging.ERROR)  # sodapy warns about the missing app token
    with PortalSimulator() as simulator:
        yield simulator


def sodapy_client(portal) -> Socrata:
    return Socrata(portal.domain, None, session_adapter={"prefix": "http://", "adapter": HTTPAdapter()})


def real_file(name: str):
    path = REAL_PORTALS / name
    if not path.is_file():
        pytest.skip(f"{path} not found (../shared absent)")
    return path


def get(portal, path: str, **params) -> requests.Response:
    # a first page renders the whole catalog: slow on a busy machine
    return requests.get(portal.url + path, params=params, timeout=60)


# --- real clients, unchanged ------------------------------------------------------------------
def test_sodapy_datasets_reads_every_asset_with_its_own_loopback_domain(sim):
    portal = sim.add_portal("socrata", GeneratedCatalog(size=230, seed=4, as_of=AS_OF))
    results = sodapy_client(portal).datasets()
    ids = [result["resource"]["id"] for result in results]
    assert len(ids) == len(set(ids)) == len(portal.entries)
    assert sum(result["resource"]["type"] == "dataset" for result in results) == 230
    assert portal.requests[0].query["domains"] == [portal.domain]  # "127.0.0.1:<port>"
    assert portal.requests.count(DISCOVERY) == 3  # 100 per page by default


def test_sodapy_get_reads_soda_rows(sim):
    portal = sim.add_portal("socrata", GeneratedCatalog(size=20, seed=4, as_of=AS_OF))
    dataset = next(entry for entry in portal.entries if entry.is_dataset and entry.row_count >= 5)
    rows = sodapy_client(portal).get(dataset.uid, limit=5)
    assert len(rows) == 5
    assert [row["record_id"] for row in rows] == ["1", "2", "3", "4", "5"]  # SODA writes numbers as text
    assert portal.requests[0].query["$limit"] == ["5"]


def test_ckanapi_package_search_posts_json_and_gets_the_envelope_result(sim):
    portal = sim.add_portal("ckan", GeneratedCatalog(size=40, seed=4, as_of=AS_OF))
    result = ckanapi.RemoteCKAN(portal.url).action.package_search(rows=5)
    assert len(result["results"]) == 5
    assert result["count"] == len(portal.entries) == 41  # 40 datasets and the policy package
    request = portal.requests[0]
    assert (request.method, request.path, request.body) == ("POST", "/api/action/package_search", {"rows": 5})


def test_ckan_datastore_search_serves_rows_of_datastore_active_resources(sim):
    portal = sim.add_portal("ckan", GeneratedCatalog(size=10, seed=4, as_of=AS_OF))
    ckan = ckanapi.RemoteCKAN(portal.url)
    packages = ckan.action.package_search(rows=20)["results"]
    resource = next(r for p in packages for r in p["resources"] if r["datastore_active"])
    result = ckan.action.datastore_search(resource_id=resource["id"], limit=3)
    assert [record["_id"] for record in result["records"]] == [1, 2, 3]
    assert result["fields"][0] == {"id": "_id", "type": "int"}


# --- documented limits -------------------------------------------------------------------------
def test_socrata_discovery_limits(sim):
    portal = sim.add_portal("socrata", GeneratedCatalog(size=150, seed=2, as_of=AS_OF))
    assert len(get(portal, DISCOVERY).json()["results"]) == 100  # default limit
    too_far = get(portal, DISCOVERY, offset=9990, limit=11)
    assert too_far.status_code == 400 and "error" in too_far.json()
    assert get(portal, DISCOVERY, offset=9990, limit=10).status_code == 200
    both = get(portal, DISCOVERY, scroll_id="", order="name")
    assert both.status_code == 400 and "error" in both.json()
    misspelt = get(portal, DISCOVERY, domain=portal.domain)  # the parameter is `domains`
    assert misspelt.status_code == 200 and misspelt.json()["results"] == []
    assert misspelt.json()["resultSetSize"] == 0
    other_domain = get(portal, DISCOVERY, domains="data.example.org").json()
    assert other_domain["results"] == []
    only = get(portal, DISCOVERY, only="datasets", limit=1000).json()
    assert only["resultSetSize"] == 150 and {r["resource"]["type"] for r in only["results"]} == {"dataset"}


def test_socrata_scroll_id_pages_past_the_offset_ceiling_in_id_order(sim):
    catalog = GeneratedCatalog(size=10_050, seed=3, as_of=AS_OF, share_non_dataset=0.0, include_policy=False)
    portal = sim.add_portal("socrata", catalog)
    assert get(portal, DISCOVERY, offset=10_000, limit=1).status_code == 400
    ids, cursor = [], ""
    while True:
        page = get(portal, DISCOVERY, limit=5000, scroll_id=cursor).json()
        assert page["resultSetSize"] == 10_050
        if not page["results"]:
            break
        ids += [result["resource"]["id"] for result in page["results"]]
        cursor = ids[-1]
    assert ids == sorted({entry.uid for entry in catalog.entries})
    # served from the cache built on the first page, not re-rendered per page
    assert portal.app.discovery.current() is portal.app.discovery.current()


def test_ckan_rows_is_cut_to_1000_silently_and_unknown_parameters_are_refused(sim):
    portal = sim.add_portal("ckan", GeneratedCatalog(size=1200, seed=2, as_of=AS_OF))
    ckan = ckanapi.RemoteCKAN(portal.url)
    assert len(ckan.action.package_search()["results"]) == 10  # default rows
    result = ckan.action.package_search(rows=5000)
    assert len(result["results"]) == 1000 and result["count"] == 1201
    with pytest.raises(ckanapi.SearchQueryError):
        ckan.action.package_search(limit=5)
    by_id = get(portal, CKAN_SEARCH, rows=3, sort="id asc").json()
    assert by_id["success"] is True
    ids = [package["id"] for package in by_id["result"]["results"]]
    assert ids == sorted(entry.uuid for entry in portal.entries)[:3]


def test_ckan_api_paths_and_errors(sim):
    portal = sim.add_portal("ckan", GeneratedCatalog(size=5, seed=2, as_of=AS_OF))
    assert get(portal, "/api/action/status_show").json()["success"] is True
    missing = get(portal, "/api/3/action/package_show", id="nope")
    assert missing.status_code == 404 and missing.json()["error"]["__type"] == "Not Found Error"
    assert get(portal, CKAN_SEARCH, rows="many").status_code == 409


def test_opendatasoft_limits(sim):
    portal = sim.add_portal("opendatasoft", GeneratedCatalog(size=130, seed=2, as_of=AS_OF))
    first = get(portal, ODS_CATALOG).json()
    assert first["total_count"] == 131 and len(first["results"]) == 10  # default limit
    for params in ({"limit": 101}, {"limit": 100, "offset": 9901}):
        refused = get(portal, ODS_CATALOG, **params)
        assert refused.status_code == 400
        assert refused.json()["error_code"] == "InvalidRESTParameterError"
    assert len(get(portal, ODS_CATALOG, limit=100, offset=100).json()["results"]) == 31
    assert len(get(portal, "/api/explore/v2.1/catalog/exports/json").json()) == 131
    dataset = next(entry for entry in portal.entries if entry.is_dataset)
    records = f"{ODS_CATALOG}/{dataset.slug}/records"
    assert get(portal, records, limit=101).status_code == 400
    assert get(portal, records, limit=3).json()["total_count"] == dataset.row_count


def test_dcat_is_one_document_unless_the_catalog_pages_it(sim):
    whole = sim.add_portal("dcat", GeneratedCatalog(size=25, seed=2, as_of=AS_OF))
    document = get(whole, "/data.json").json()
    assert document["conformsTo"] == "https://project-open-data.cio.gov/v1.1/schema"
    assert len(document["dataset"]) == 26
    assert get(whole, "/data.json", page=2).content == get(whole, "/data.json").content
    assert get(whole, "/api/feed/dcat-us/1.1.json").content == get(whole, "/data.json").content
    paged = sim.add_portal("dcat", GeneratedCatalog(size=25, seed=2, as_of=AS_OF, dcat_page_size=10))
    sizes = [len(get(paged, "/data.json", page=n).json()["dataset"]) for n in (1, 2, 3, 4)]
    assert sizes == [10, 10, 6, 0]


def test_unknown_paths_are_json_404(sim):
    for platform in CATALOG_PATHS:
        response = get(sim.add_portal(platform, GeneratedCatalog(size=3, as_of=AS_OF)), "/no/such/path")
        assert response.status_code == 404 and response.json()["error"] == "not found"


# --- faults -----------------------------------------------------------------------------------
def test_429_with_retry_after_then_500_then_served(sim):
    faults = Faults(status_429_first_n=2, retry_after_s=7, fail_first_n=1)
    portal = sim.add_portal("socrata", GeneratedCatalog(size=5, as_of=AS_OF), faults)
    responses = [get(portal, DISCOVERY) for _ in range(4)]
    assert [r.status_code for r in responses] == [429, 429, 500, 200]
    assert responses[0].headers["Retry-After"] == "7"


def test_down_portal_answers_503_to_everything_at_once(sim):
    portal = sim.add_portal("ckan", GeneratedCatalog(size=5, as_of=AS_OF), Faults(down=True))
    statuses = {get(portal, path).status_code for path in (CKAN_SEARCH, "/api/3/action/status_show", "/x")}
    assert statuses == {503}
    assert portal.requests.count() == 3


def test_truncated_and_oversized_bodies(sim):
    portal = sim.add_portal("dcat", GeneratedCatalog(size=10, as_of=AS_OF), Faults(truncate_json=True))
    with pytest.raises(ValueError):
        get(portal, "/data.json").json()
    portal.set_faults(Faults(oversized_bytes=2_000_000))
    big = get(portal, "/data.json")
    assert len(big.content) > 2_000_000
    assert len(big.json()["dataset"]) == 11  # still valid JSON: 10 datasets and the policy entry


def test_ignore_paging_serves_the_first_page_again(sim):
    faults = Faults(ignore_paging=True)
    socrata = sim.add_portal("socrata", GeneratedCatalog(size=30, as_of=AS_OF), faults)
    assert get(socrata, DISCOVERY, limit=10, offset=10).content == get(socrata, DISCOVERY, limit=10).content
    assert get(socrata, DISCOVERY, limit=10, scroll_id="zzzz-zzzz").json()["results"]
    ckan = sim.add_portal("ckan", GeneratedCatalog(size=30, as_of=AS_OF), faults)
    client = ckanapi.RemoteCKAN(ckan.url)
    assert client.action.package_search(rows=5, start=5) == client.action.package_search(rows=5)


def test_random_errors_follow_the_seed(sim):
    def statuses(portal) -> list[int]:
        return [get(portal, DISCOVERY, limit=1).status_code for _ in range(20)]

    a = sim.add_portal("socrata", GeneratedCatalog(size=3, as_of=AS_OF), Faults(error_rate=0.5, seed=9))
    b = sim.add_portal("socrata", GeneratedCatalog(size=3, as_of=AS_OF), Faults(error_rate=0.5, seed=9))
    first = statuses(a)
    assert first == statuses(b)
    assert {200, 500} == set(first)


def test_bad_arguments_are_one_line_value_errors(sim, tmp_path):
    with pytest.raises(ValueError, match="error_rate"):
        Faults(error_rate=2)
    with pytest.raises(ValueError, match="unknown platform"):
        sim.add_portal("arcgis", GeneratedCatalog(size=1))
    with pytest.raises(ValueError, match="not found"):
        RecordedCatalog(tmp_path / "missing.json")
    (tmp_path / "odd.json").write_text('{"hello": 1}')
    for platform in CATALOG_PATHS:
        with pytest.raises(ValueError):
            sim.add_portal(platform, RecordedCatalog(tmp_path / "odd.json"))
    assert sim.portals == []


# --- determinism and change -------------------------------------------------------------------
@pytest.mark.parametrize("platform", list(CATALOG_PATHS))
def test_same_seed_same_bytes(sim, platform):
    def body(seed: int) -> bytes:
        catalog = GeneratedCatalog(size=60, seed=seed, as_of=AS_OF)
        portal = sim.add_portal(platform, catalog, public_url="https://data.springfield.example")
        return get(portal, CATALOG_PATHS[platform]).content

    assert body(5) == body(5)
    assert body(5) != body(6)


def test_stale_and_missing_shares_follow_metrics_rules(sim):
    catalog = GeneratedCatalog(size=400, seed=8, share_stale=0.3, share_missing_metadata=0.2, as_of=AS_OF)
    results = get(sim.add_portal("socrata", catalog), DISCOVERY, only="dataset", limit=1000).json()["results"]
    periods = {  # METRICS.md "Frequency"
        "Data are updated daily": 1,
        "Data are updated weekly": 7,
        "Data are updated monthly": 31,
        "Data are updated quarterly": 92,
        "Data are updated annually": 366,
    }
    stale = with_period = missing = 0
    for result in results:
        metadata = {m["key"]: m["value"] for m in result["classification"]["domain_metadata"]}
        period = periods.get(metadata.get("Metadata_Frequency"))
        missing += not result["resource"]["description"] and "license" not in result["metadata"]
        if period is None:
            continue
        updated = datetime.fromisoformat(result["resource"]["data_updated_at"].replace("Z", "+00:00"))
        with_period += 1
        stale += (AS_OF - updated).total_seconds() / 86400 > 1.5 * period + 1
    assert missing == round(0.2 * 400)
    assert stale == round(0.3 * with_period)


def test_touch_changes_only_the_touched_datasets(sim):
    catalog = GeneratedCatalog(size=50, seed=1, as_of=AS_OF)
    portal = sim.add_portal("socrata", catalog)

    def by_id() -> dict[str, dict]:
        return {r["resource"]["id"]: r for r in get(portal, DISCOVERY, limit=1000).json()["results"]}

    before = by_id()
    touched = {entry.uid for entry in catalog.touch(3, at=datetime(2024, 3, 2, tzinfo=UTC))}
    after = by_id()
    changed = {uid for uid in before if before[uid] != after[uid]}
    assert changed == touched and len(touched) == 3
    assert {after[uid]["resource"]["data_updated_at"] for uid in touched} == {"2024-03-02T00:00:00.000Z"}
    added = catalog.add(2)
    gone = catalog.remove(1)
    final = by_id()
    assert {e.uid for e in added} <= set(final) and gone[0].uid not in final
    assert len(final) == len(before) + 1


# --- replay of real recorded files --------------------------------------------------------------
def test_replay_socrata_discovery_pages_through_sodapy(sim):
    names = [f"socrata-discovery-nyc-attribution-dot-20250504-p{n}.json" for n in (1, 2, 3)]
    paths = [real_file(name) for name in names]
    expected = [r["resource"]["id"] for p in paths for r in json.loads(p.read_text())["results"]]
    portal = sim.add_portal("socrata", RecordedCatalog(paths))
    assert [r["resource"]["id"] for r in sodapy_client(portal).datasets()] == expected


def test_replay_socrata_views(sim):
    path = real_file("socrata-views-sodademo-20250818.json")
    recorded = json.loads(path.read_text())
    portal = sim.add_portal("socrata", RecordedCatalog(path))
    assert get(portal, "/api/views.json").json() == recorded
    assert get(portal, "/api/views.json", limit=2, page=2).json() == recorded[2:4]
    assert get(portal, f"/api/views/{recorded[0]['id']}.json").json() == recorded[0]


def test_replay_ckan_dump_paged_by_id(sim):
    path = real_file("ckan-opendataphilly-20160218.json")
    expected = sorted(package["id"] for package in json.loads(path.read_text()))
    client = ckanapi.RemoteCKAN(sim.add_portal("ckan", RecordedCatalog(path)).url)
    ids, start = [], 0
    while page := client.action.package_search(rows=100, start=start, sort="id asc")["results"]:
        ids += [package["id"] for package in page]
        start += len(page)
    assert ids == expected


def test_replay_dcat_byte_for_byte(sim):
    path = real_file("dcat-chicago-20130828.json")  # POD 1.0: a top-level list
    portal = sim.add_portal("dcat", RecordedCatalog(path))
    assert get(portal, "/data.json").content == path.read_bytes()
    assert get(portal, "/api/feed/dcat-us/1.1.json").content == path.read_bytes()


def test_replay_opendatasoft_v20_shape(sim, tmp_path):
    # no ODS catalog is recorded in public (real-portals/README.md): a hand-written v2.0 page
    page = {
        "total_count": 2,
        "datasets": [{"dataset": {"dataset_id": i, "metas": {"default": {}}}} for i in "ab"],
    }
    (tmp_path / "ods.json").write_text(json.dumps(page))
    portal = sim.add_portal("opendatasoft", RecordedCatalog(tmp_path / "ods.json"))
    document = get(portal, ODS_CATALOG).json()
    assert document["total_count"] == 2
    assert [d["dataset_id"] for d in document["results"]] == ["a", "b"]
