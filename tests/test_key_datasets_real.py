"""The key dataset matcher on real recorded catalogs: hand-checked expectations, precision first.

Each expectation was read from the raw file by hand (title as published, and what the dataset
is); "none" means the record must match no key type. Titles shared by several records apply to
each of them.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import REAL_PORTALS
from wwc_pipeline import registry
from wwc_pipeline.keydata.columns import dimensions_found
from wwc_pipeline.keydata.matching import classify
from wwc_pipeline.keydata.rules import load_key_datasets
from wwc_pipeline.text import clean_text

pytestmark = pytest.mark.contract

CHICAGO = "dcat-chicago-20130828.json"
SF = "dcat-sanfrancisco-20130828.json"
BALTIMORE = "dcat-baltimore-20220616.json"
NYC_2013 = "socrata-views-nyc-20130414-a.json"
NYC_DOT = "socrata-discovery-nyc-attribution-dot-20250504-p*.json"
PHILLY = "ckan-opendataphilly-20160218.json"
DETROIT = "dcat-detroit-20220616.json"
HHS = "dcat-healthdata-gov-20190703.json"
PLATFORM = {CHICAGO: "dcat", SF: "dcat", BALTIMORE: "dcat", NYC_2013: "socrata", NYC_DOT: "socrata"}
PLATFORM.update({PHILLY: "ckan", DETROIT: "dcat", HHS: "dcat"})

EXPECTATIONS = [
    (CHICAGO, "Crimes - 2001 to present", "crime"),
    (CHICAGO, "Building Permits", "construction_permits"),
    (CHICAGO, "Food Inspections", "restaurant_inspections"),
    (CHICAGO, "Business Licenses", "business_listings"),
    (CHICAGO, "Contracts", "procurement_contracts"),
    (CHICAGO, "Payments", "spending"),
    (CHICAGO, "Chicago Police Department - Illinois Uniform Crime Reporting (IUCR) Codes", "none"),
    (
        CHICAGO,
        "Performance Metrics - Housing & Economic Development - Zoning Permit Scheduling And Review",
        "performance",
    ),
    (
        CHICAGO,
        "Performance Metrics - Business Affairs & Consumer Protection - Business Licenses",
        "performance",
    ),
    (CHICAGO, "Boundaries - Zoning Districts", "zoning"),
    (CHICAGO, "311 Service Requests - Pot Holes Reported", "service_requests"),
    (CHICAGO, "FOIA Request Log - 311", "none"),
    (CHICAGO, "FOIA Request Log - Procurement Services", "none"),
    (CHICAGO, "Budget - 2013 Budget Ordinance - Appropriations", "budget"),
    (CHICAGO, "Current Employee Names, Salaries, and Position Titles", "employee_compensation"),
    (CHICAGO, "Building Violations", "code_violations"),
    (CHICAGO, "Lobbyist Data - Lobbyist Registry - 2012 to present", "lobbying"),
    (CHICAGO, "CTA - System Information - Developer Tool: GTFS Data", "transit"),
    (CHICAGO, "Housing and Economic Development Payment Receipts", "none"),
    (CHICAGO, "Police Stations", "none"),
    (CHICAGO, "Sex Offenders", "none"),
    (CHICAGO, "CDPH Environmental Records Lookup Table", "none"),
    (SF, "Vendor Payments", "spending"),
    (SF, "Campaign Finance - SFEC 1.126 Notification of Contract Approval Filings", "campaign_finance"),
    (SF, "Campaign Consultants - Vendor Payments", "campaign_finance"),
    (SF, "DPW Construction Projects Certified Payroll Reports (CPR)", "none"),
    (SF, "Statement of Economic Interests Database (SEI) (Form 700)", "asset_disclosure"),
    (SF, "2012 Energy Benchmarking Report, San Francisco Municipal Buildings", "none"),
    (SF, "Public Transit Commute Time, San Francisco, CA", "none"),
    (SF, "SFMTA Transit Stop and Schedule Data (GTFS format).", "transit"),
    (SF, "Street-Use Permits", "none"),
    (SF, "Permit Types", "none"),
    (SF, "Housing Code Violations, San Francisco, CA", "code_violations"),
    (SF, "Citywide Performance Measures Data", "performance"),
    (SF, "Latest Street and Sidewalk Inspection Results Data Since FY07", "none"),
    (BALTIMORE, "Part 1 Crime Data", "crime"),
    (BALTIMORE, "CRIME CODES", "none"),
    (BALTIMORE, "Violent Crime Rate per 1,000 Residents - City", "none"),
    (BALTIMORE, "Number of New Construction Permits per 1,000 Residential Properties - City", "none"),
    (BALTIMORE, "Open Checkbook FY2021 Dataset", "spending"),
    (BALTIMORE, "Baltimore City Employee Salaries", "employee_compensation"),
    (BALTIMORE, "Baltimore City Employee Residency by Agency", "none"),
    (BALTIMORE, "Financial Disclosures", "asset_disclosure"),
    (BALTIMORE, "BPD Part 1 Victim Based Crime Dashboard", "none"),
    (BALTIMORE, "Residential Parking Permits", "none"),
    (BALTIMORE, "Parking and Moving Citations", "none"),
    (BALTIMORE, "Zoning", "zoning"),
    (BALTIMORE, "Parcel", "parcels"),
    (NYC_2013, "311 Service Requests from 2010 to Present", "service_requests"),
    (NYC_2013, "NYC Budget Expense All Funds", "budget"),
    (NYC_2013, "2001 Campaign Payments", "campaign_finance"),
    (NYC_2013, "DFTA Contracts", "procurement_contracts"),
    (NYC_2013, "Total Crime Index For The Nation’s Largest Cities", "none"),
    (NYC_2013, "Health Code", "none"),
    (NYC_2013, "Building Complaint Disposition Codes", "none"),
    (NYC_2013, "Directory Of Zoning Details", "none"),
    (NYC_2013, "Grand Street BID Business Directory", "none"),
    (NYC_2013, "Public Pay Telephone Wifi Metrics", "none"),
    (NYC_DOT, "Street Construction Permits (2022-Present)", "none"),
    (NYC_DOT, "Open Restaurants Inspections", "none"),
    (NYC_DOT, "Intercity Bus Stop Permits", "none"),
    (NYC_DOT, "Parking Permit for People with Disabilities (PPPD) - City", "none"),
    (PHILLY, "Crime Incidents", "crime"),
    (PHILLY, "311 Service Requests", "service_requests"),
    (PHILLY, "City Operating Budget", "budget"),
    (PHILLY, "Commodities Contracts", "procurement_contracts"),
    (PHILLY, "Professional Services Contracts", "procurement_contracts"),
    (PHILLY, "Code Violation Notices", "code_violations"),
    (PHILLY, "Campaign Finance Records", "campaign_finance"),
    (PHILLY, "Philadelphia Lobbying Information System (PLIS)", "lobbying"),
    (PHILLY, "Property Assessments", "parcels"),
    (PHILLY, "SEPTA GTFS", "transit"),
    (PHILLY, "Vehicular Crashes", "traffic_crashes"),
    (PHILLY, "City Facilities (Master Facilities Database)", "public_buildings"),
    (PHILLY, "Zoning Base Districts", "zoning"),
    (PHILLY, "Parking Violations", "none"),
    (PHILLY, "Evacuation Routes", "none"),
    (PHILLY, "Police Stations", "none"),
    (PHILLY, "Licenses and Inspections API", "none"),
    (PHILLY, "Candidates", "none"),
    (PHILLY, "Building Footprints", "none"),
    (PHILLY, "Trulia Crime Maps (Phila. only)", "none"),
    (DETROIT, "Open Checkbook Payments", "spending"),
    (DETROIT, "OCP Procurement Contracts", "procurement_contracts"),
    (DETROIT, "Traffic Crashes", "traffic_crashes"),
    (DETROIT, "Demolitions under Contract", "none"),
    (HHS, "Payment - National", "none"),
    (HHS, "Medicare Advantage Monthly Enrollment by Contract", "none"),
    (HHS, "Medicare Spending Per Beneficiary – State", "none"),
]

_RECORDS: dict[str, list] = {}


def records(name: str) -> list:
    """Every record of a recorded catalog (all pages of a paged one), read by its connector."""
    if name not in _RECORDS:
        paths = sorted(REAL_PORTALS.glob(name))
        if not paths:
            pytest.skip(f"{REAL_PORTALS / name} not found (../shared absent)")
        registry.load_plugins()
        connector = registry.CONNECTORS[PLATFORM.get(name, "socrata")]
        _RECORDS[name] = [
            r for p in paths for r in connector.records_from_document(json.loads(p.read_text()))
        ]
    return _RECORDS[name]


def by_title(name: str, title: str) -> list:
    found = [r for r in records(name) if clean_text(r.title or "") == title]
    assert found, f"{title!r} is not a title of {name}"
    return found


def test_the_expectations_cover_five_catalogs_of_three_platforms_both_ways():
    assert len(EXPECTATIONS) >= 40
    assert len({name for name, _, _ in EXPECTATIONS}) >= 5
    assert {PLATFORM[name] for name, _, _ in EXPECTATIONS} == {"dcat", "socrata", "ckan"}
    negatives = [e for e in EXPECTATIONS if e[2] == "none"]
    assert len(negatives) >= 15 and len(EXPECTATIONS) - len(negatives) >= 25


@pytest.mark.parametrize(("name", "title", "expected"), EXPECTATIONS)
def test_hand_checked_expectation(name, title, expected):
    config = load_key_datasets()
    for record in by_title(name, title):
        found = [match.type_id for match in classify(record, config)]
        assert found == ([] if expected == "none" else [expected]), (title, found)


def test_every_performance_metrics_dataset_is_performance_only():
    config = load_key_datasets()
    metrics = [r for r in records(CHICAGO) if (r.title or "").startswith("Performance Metrics - ")]
    assert len(metrics) > 40
    for record in metrics:
        assert [m.type_id for m in classify(record, config)] == ["performance"], record.title


def test_a_match_keeps_the_rule_that_matched():
    (crimes,) = by_title(CHICAGO, "Crimes - 2001 to present")
    (match,) = classify(crimes, load_key_datasets())
    assert match.rank == 0 and set(match.rule) == {"title"}
    assert match.rule["title"]["matched"] == "crimes" and "crime" in match.rule["title"]["pattern"]


# DM8: column field names of Socrata Discovery results, read by hand from the raw files.
DIMENSIONS = [
    (
        "socrata-discovery-chicago-20250825.json",
        "ydr8-5enu",
        {"census_tract", "council_district", "neighbourhood"},
    ),
    ("socrata-discovery-chicago-20250825.json", "r5kz-chrr", {"council_district", "neighbourhood", "zip"}),
    ("socrata-discovery-chicago-20250825.json", "4ijn-s7e5", {"zip"}),
    ("socrata-discovery-chicago-20250825.json", "s6ha-ppgi", {"neighbourhood", "zip"}),
    ("socrata-discovery-chicago-20250825.json", "2ft4-4uik", set()),  # lobbyist_zip: the lobbyist's address
    ("socrata-discovery-chicago-20250825.json", "xzkq-xp2w", set()),
    ("socrata-discovery-chicago-20250825.json", "85ca-t3if", set()),  # ward etc. are computed columns
    (NYC_DOT, "4dx7-axux", {"council_district", "neighbourhood", "zip", "census_tract"}),
    (NYC_DOT, "xeqp-qz8h", {"council_district", "neighbourhood", "zip", "census_tract"}),
    (NYC_DOT, "6bqn-qdwq", {"race_ethnicity", "sex_gender", "age", "disability", "language"}),
    (NYC_DOT, "uczf-rk3c", set()),
    (NYC_DOT, "gc8d-bnmn", set()),  # "Disabilities" in the title, none in the columns
    ("socrata-discovery-us-datasets-stories-20250825.json", "9bhg-hcku", {"age", "sex_gender"}),
]


@pytest.mark.parametrize(("name", "dataset_id", "expected"), DIMENSIONS)
def test_disaggregation_dimensions_found_in_column_names(name, dataset_id, expected):
    (record,) = [r for r in records(name) if r.dataset_id == dataset_id]
    assert set(dimensions_found(record, load_key_datasets())) == expected


def test_platforms_without_column_names_give_no_evidence_either_way():
    config = load_key_datasets()
    assert all(dimensions_found(r, config) is None for r in records(CHICAGO))
    assert all(dimensions_found(r, config) is None for r in records(PHILLY))
