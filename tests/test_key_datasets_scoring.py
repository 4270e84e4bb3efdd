"""Key dataset criteria per city across portals, the report table, and the simulator's key datasets."""

from __future__ import annotations

import copy
import csv
import io
import json
from datetime import UTC, datetime

from wwc_pipeline.config import CriterionConfig, PortalConfig, load_criteria
from wwc_pipeline.keydata.summary import DISAGGREGATED_CHECK, TYPES_CHECK
from wwc_pipeline.reports import render_html, render_json, render_key_datasets_csv, write_report
from wwc_pipeline.results import CheckResult, Status
from wwc_pipeline.scoring import INSUFFICIENT, MET, NOT_MET, PARTIAL, PortalEvidence, score_criterion

YES = {"online": True, "machine_readable": True, "bulk": True, "open_license": True, "fresh": True}
CLOSED = {**YES, "open_license": False}


def match(dataset_id, title, answers, rank=0, dimensions=None, link=None):
    return {
        "dataset_id": dataset_id,
        "title": title,
        "link": link,
        "rank": rank,
        "rule": {"title": {"pattern": r"\bx\b", "matched": "x"}},
        "answers": answers,
        "dimensions": dimensions,
        "variants": 0,
    }


def types_value(found: dict[str, list[dict]]) -> dict:
    ids = ["crime", "budget", "spending", "procurement_contracts", "performance"]
    sets = {"spending": ["census", "procurement"], "procurement_contracts": ["census", "procurement"]}
    sets["performance"] = ["performance"]
    return {
        "score": None,
        "types": [
            {
                "id": i,
                "name": i.title(),
                "definition": "",
                "sets": sets.get(i, ["census"]),
                "count": len(found.get(i, [])),
                "matches": found.get(i, []),
            }
            for i in ids
        ],
    }


def portal(url, found, disaggregation=None):
    results = {TYPES_CHECK: CheckResult(TYPES_CHECK, Status.PASS, types_value(found))}
    if disaggregation is not None:
        status = Status.NA if not disaggregation.get("tabular") else Status.PASS
        results[DISAGGREGATED_CHECK] = CheckResult(DISAGGREGATED_CHECK, status, disaggregation)
    return PortalEvidence(portal=url, harvested=True, portal_results=results)


def criterion(**kwargs) -> CriterionConfig:
    base = {"id": "K", "component": "Measure", "current": ["OD3"], "title": "t", "kind": "key_datasets"}
    return CriterionConfig(**{**base, "met": 75, "partial": 40, **kwargs})


def test_the_best_match_across_portals_decides_and_missing_types_score_zero():
    a = portal(
        "https://a", {"crime": [match("c1", "Crimes", CLOSED)], "budget": [match("b", "Budget", CLOSED)]}
    )
    b = portal("https://b", {"crime": [match("c2", "Crime Incidents", YES)]})
    row = score_criterion(criterion(key_set="census", found_credit=50), [a, b])
    # crime open on b (100), budget found but closed (50), spending and procurement missing (0, 0)
    assert row["score"] == 37.5 and row["status"] == NOT_MET
    assert row["counts"]["crime"] == {
        "found": True,
        "open": True,
        "dataset": "Crime Incidents",
        "portal": "https://b",
    }
    assert row["counts"]["budget"]["open"] is False and row["counts"]["missing"] == 2
    assert "Budget: no open licence" in row["evidence"] and "2 missing" in row["evidence"]
    assert set(row["portal_breakdown"]) == {"https://a", "https://b"}
    assert row["portal_breakdown"]["https://a"]["score"] == 25.0


def test_procurement_counts_contracts_and_spending_and_performance_counts_when_found():
    a = portal(
        "https://a", {"spending": [match("p", "Payments", YES)], "performance": [match("m", "KPIs", CLOSED)]}
    )
    procurement = score_criterion(criterion(key_set="procurement", met=100, partial=50), [a])
    assert procurement["score"] == 50.0 and procurement["status"] == PARTIAL
    performance = score_criterion(criterion(key_set="performance", found_credit=100, met=100), [a])
    assert performance["score"] == 100.0 and performance["status"] == MET


def test_an_unknown_set_or_no_check_result_is_insufficient_evidence():
    a = portal("https://a", {})
    assert score_criterion(criterion(key_set="nope"), [a])["status"] == INSUFFICIENT
    bare = PortalEvidence(portal="https://a", harvested=True)
    assert score_criterion(criterion(key_set="census"), [bare])["status"] == INSUFFICIENT


def test_disaggregation_is_the_mean_of_the_key_and_tabular_shares():
    dm8 = criterion(key_set="census", key_measure="disaggregated", met=50, partial=20)
    found = {
        "crime": [match("c", "Crimes", YES, dimensions={"zip": ["zip"]})],
        "budget": [match("b", "Budget", YES, dimensions={})],
        "spending": [match("s", "Payments", YES, dimensions=None)],  # no column names: not judged
    }
    split = {
        "tabular": 10,
        "disaggregated": 2,
        "dimensions": {"zip": 2},
        "dimension_names": {"zip": "ZIP code"},
    }
    row = score_criterion(dm8, [portal("https://a", found, split)])
    assert row["score"] == 35.0  # key 1 of 2 (50 %), tabular 2 of 10 (20 %)
    assert row["status"] == PARTIAL and "ZIP code (2)" in row["evidence"]
    assert row["counts"]["key_datasets_with_columns"] == 2


def test_tied_dimensions_are_listed_in_the_configured_order_whatever_the_stored_key_order():
    """PostgreSQL's JSONB does not keep a stored value's key order: a reused value may hold its
    dimensions in any order, and the evidence line must not follow it."""
    from wwc_pipeline.keydata.rules import cached_key_datasets

    dm8 = criterion(key_set="census", key_measure="disaggregated", met=50, partial=20)
    configured = [d for d in cached_key_datasets().disaggregation.dimensions][:3]
    names = {d.id: d.name for d in configured}
    lines = set()
    for ids in ([d.id for d in configured], [d.id for d in reversed(configured)]):
        split = {
            "tabular": 10,
            "disaggregated": 4,
            "dimensions": {**{i: 2 for i in ids}, "zz_unknown": 2, "zip": 3},
            "dimension_names": {i: names[i] for i in ids} | {"zip": "ZIP code"},
        }
        lines.add(score_criterion(dm8, [portal("https://a", {}, split)])["evidence"])
    assert len(lines) == 1
    shown = ", ".join(f"{d.name} (2)" for d in configured)
    assert f"dimensions found: ZIP code (3), {shown}, zz_unknown (2)." in lines.pop()


def test_disaggregation_without_column_names_is_insufficient_never_not_met():
    dm8 = criterion(key_set="census", key_measure="disaggregated", met=50, partial=20)
    found = {"crime": [match("c", "Crimes", YES, dimensions=None)]}
    row = score_criterion(dm8, [portal("https://a", found, {"tabular": 0, "disaggregated": 0})])
    assert row["status"] == INSUFFICIENT and row["score"] is None
    assert "column names" in row["evidence"]


def report_with_key_datasets() -> dict:
    found = {
        "crime": [match("c", "Crimes", YES, dimensions={"ward": ["ward"]}, link="https://a/d/c")],
        "budget": [match("b", "=Budget", CLOSED, link="javascript:alert(1)")],
    }
    value = types_value(found)
    return {
        "city": {"id": "sp", "name": "Springfield"},
        "run": {"id": 7, "status": "succeeded"},
        "portals": [],
        "criteria": [],
        "datasets": [],
        "portal_checks": [
            {"portal": "https://a", "check_id": TYPES_CHECK, "status": "pass", "value": value, "reason": ""},
            {
                "portal": "https://a",
                "check_id": DISAGGREGATED_CHECK,
                "status": "pass",
                "value": {"dimension_names": {"ward": "council district or ward"}},
                "reason": "",
            },
        ],
    }


def test_the_report_table_in_html_json_and_its_own_csv(tmp_path):
    report = report_with_key_datasets()
    html = render_html(copy.deepcopy(report))
    assert 'id="key-datasets"' in html and 'href="https://a/d/c"' in html
    assert (
        'href="javascript:' not in html and "Missing: Spending, Procurement_Contracts, Performance." in html
    )
    data = json.loads(render_json(copy.deepcopy(report)))["key_datasets"]
    assert data["found"] == ["crime", "budget"]
    crime = data["types"][0]
    assert crime["answers"]["open_license"] is True and crime["dimensions"] == ["council district or ward"]
    rows = list(csv.DictReader(io.StringIO(render_key_datasets_csv(report))))
    assert [r["key_type"] for r in rows] == [
        "crime",
        "budget",
        "spending",
        "procurement_contracts",
        "performance",
    ]
    assert rows[1]["title"] == "'=Budget" and rows[1]["link"] == "" and rows[1]["open_license"] == "no"
    assert rows[2]["found"] == "no" and rows[2]["open"] == ""
    path = write_report(report, "keydata.csv", tmp_path)
    assert path.name == "sp-7.keydata.csv" and path.read_text().startswith("city,run_id,key_type")


def test_a_report_without_the_check_has_no_table():
    report = report_with_key_datasets()
    report["portal_checks"] = []
    assert 'id="key-datasets"' not in render_html(report)
    assert json.loads(render_json(report))["key_datasets"] is None


AS_OF = datetime(2025, 6, 1, tzinfo=UTC)


def keydata_score(platform: str, key_datasets: tuple[str, ...]) -> tuple[dict, list[str]]:
    """MEASURE-OD-KEYDATA of one simulated portal, and the key types found on it."""
    from wwc_pipeline.http import HttpClient
    from wwc_pipeline.pipeline import evaluate_portal, harvest_portal
    from wwc_pipeline.results import PortalContext
    from wwc_pipeline.scoring import score_city
    from wwc_pipeline.simulator import GeneratedCatalog, PortalSimulator

    with PortalSimulator() as sim:
        catalog = GeneratedCatalog(size=60, seed=5, as_of=AS_OF, key_datasets=key_datasets)
        served = sim.add_portal(platform=platform, catalog=catalog)
        with HttpClient(min_interval=0) as client:
            snapshot = harvest_portal(PortalConfig(platform=platform, url=served.url), client)
    outcome = evaluate_portal(snapshot.records, PortalContext(platform, None, AS_OF), served.url)
    value = outcome.evidence.portal_results[TYPES_CHECK].value
    found = [t["id"] for t in value["types"] if t["count"]]
    rows = {row["criterion_id"]: row for row in score_city(load_criteria(), [outcome.evidence])}
    return rows["MEASURE-OD-KEYDATA"], found


def test_simulated_key_datasets_match_and_look_alikes_do_not():
    few, found_few = keydata_score("ckan", ("crime", "budget"))
    many, found_many = keydata_score("ckan", ("crime", "budget", "spending", "zoning", "transit", "lobbying"))
    # "Contracts" and "Performance Metrics" are always published; the look-alikes match nothing else
    assert found_few == ["budget", "procurement_contracts", "crime", "performance"]
    assert set(found_many) == {"crime", "budget", "spending", "zoning", "transit", "lobbying"} | {
        "procurement_contracts",
        "performance",
    }
    assert many["score"] > few["score"]


def test_the_demo_cities_publish_different_key_datasets():
    from wwc_pipeline.demo import DEMO_CITIES, start_demo_portals
    from wwc_pipeline.http import HttpClient
    from wwc_pipeline.pipeline import evaluate_portal, harvest_portal
    from wwc_pipeline.results import PortalContext
    from wwc_pipeline.scoring import score_city
    from wwc_pipeline.simulator import PortalSimulator
    from wwc_pipeline.simulator import vocabulary as vocab

    criteria = load_criteria()
    published: dict[str, int] = {}
    with PortalSimulator() as sim, HttpClient(min_interval=0) as client:
        for city in start_demo_portals(sim, AS_OF, scale=0.1)["cities"]:
            evidence = []
            for entry in city["portals"]:
                snapshot = harvest_portal(PortalConfig(**entry), client)
                context = PortalContext(entry["platform"], None, AS_OF)
                evidence.append(evaluate_portal(snapshot.records, context, entry["url"]).evidence)
            row = next(r for r in score_city(criteria, evidence) if r["criterion_id"] == "MEASURE-OD-KEYDATA")
            published[city["id"]] = row["counts"]["published_open"] + row["counts"]["published_not_open"]
    # what each demo portal was told to publish, plus "Contracts" that every catalog has
    planned = {
        city_id: len({k for p in portals for k in p.key_datasets} | {"procurement_contracts"})
        for city_id, (_, portals) in DEMO_CITIES.items()
    }
    assert published == planned
    assert planned["springfield"] == len(vocab.KEY_DATASETS) and len(set(planned.values())) == len(planned)


def test_a_check_that_could_not_run_says_why_in_the_evidence():
    broken = CheckResult(TYPES_CHECK, Status.NA, {"score": None}, "Check could not run: bad.yaml: types.0: x")
    evidence = PortalEvidence(portal="https://a", harvested=True, portal_results={TYPES_CHECK: broken})
    row = score_criterion(criterion(key_set="census"), [evidence])
    assert row["status"] == INSUFFICIENT and "bad.yaml: types.0: x" in row["evidence"]
