"""Socrata normalizer on the real recorded catalogs: values read by hand (jq) from the raw files.

Each expectation below was read from the raw JSON with jq, not produced by the code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import wwc_pipeline.connectors.socrata as socrata

from tests.conftest import load_real
from wwc_pipeline.frequency import parse_frequency

pytestmark = pytest.mark.contract

CHICAGO = "socrata-discovery-chicago-20250825.json"
STORIES = "socrata-discovery-us-datasets-stories-20250825.json"
LIMIT7 = "socrata-discovery-us-all-limit7-20180901.json"
NYC_P1 = "socrata-discovery-nyc-attribution-dot-20250504-p1.json"
NYC_P3 = "socrata-discovery-nyc-attribution-dot-20250504-p3.json"
NYC_VIEWS = "socrata-views-nyc-20130414-a.json"
SODADEMO = "socrata-views-sodademo-20250818.json"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def records_by_id(name: str, portal: str | None = None) -> dict:
    document = load_real(name)
    return {record.dataset_id: record for record in socrata.records_from_document(document, portal)}


@pytest.mark.parametrize("name", [CHICAGO, STORIES, LIMIT7, NYC_P1, NYC_VIEWS, SODADEMO])
def test_looks_like_every_socrata_shape(name: str) -> None:
    assert socrata.looks_like(load_real(name))


def test_looks_like_rejects_other_platforms() -> None:
    assert not socrata.looks_like(load_real("dcat-dc-20170315.json"))
    assert not socrata.looks_like(load_real("ckan-opendataphilly-20160218.json"))
    assert not socrata.looks_like({"results": [{"dataset_id": "x", "metas": {}}]})  # OpenDataSoft


def test_chicago_discovery_fields() -> None:
    records = records_by_id(CHICAGO)
    assert len(records) == 10
    salaries = records["xzkq-xp2w"]
    assert salaries.portal == "data.cityofchicago.org"
    assert salaries.title == "Current Employee Names, Salaries, and Position Titles"
    assert salaries.declared_frequency == "Data are updated daily"
    assert salaries.license_fields == ["See Terms of Use"]
    assert salaries.data_modified_at == utc(2025, 8, 25, 4, 49, 6)
    assert salaries.publisher == "City of Chicago"
    assert salaries.keywords == ["personnel"]
    assert salaries.categories == ["Administration & Finance"]
    assert salaries.contact is None
    assert len(salaries.columns) == 8
    assert [d.format for d in salaries.distributions] == ["soda"]

    permits = records["ydr8-5enu"]  # 121 columns, 6 of them :@computed_region_*
    assert len(permits.columns) == 115
    assert [c.name for c in permits.columns[:3]] == ["WORK_DESCRIPTION", "LOCATION", "BUILDING_FEE_SUBTOTAL"]
    assert permits.columns[0].description.startswith("Description of work authorized by the pe")
    assert permits.keywords == ["buildings", "permits"]
    assert permits.categories == ["Buildings", "economy", "education", "politics"]
    assert permits.landing_page == "https://data.cityofchicago.org/d/ydr8-5enu"
    assert permits.created_at == utc(2011, 9, 30, 12, 0, 8)
    assert permits.metadata_modified_at == utc(2024, 10, 21, 15, 11, 40)
    assert permits.views == 932069

    assert records["s6ha-ppgi"].license_fields == []  # metadata.license is null
    assert records["2ft4-4uik"].declared_frequency is None  # no frequency key at all
    assert records["2ft4-4uik"].data_modified_at == utc(2011, 8, 21, 2, 47, 57)  # data_updated_at first
    assert records["i6bp-fvbx"].declared_frequency is None  # Metadata_Frequency is ""


def test_cross_domain_discovery_fields() -> None:
    records = records_by_id(STORIES)
    story = records["q5as-kyim"]
    assert (story.asset_type, story.is_dataset, story.portal) == ("story", False, "data.ct.gov")
    assert story.declared_frequency == "Not updated (historical data)"
    assert story.license_fields == ["Public Domain"]
    # two frequency keys: the first in document order decides
    gaming = records["kwxv-fwze"]
    assert gaming.declared_frequency == "Daily beginning 7/1/19; twice weekly previously"
    assert parse_frequency(gaming.declared_frequency).period_days == 1
    assert gaming.contact == "opendata@its.ny.gov"
    assert records["qccx-65fg"].publisher == "Jeanne Upchurch"  # attribution null: owner.display_name
    dallas = records["9fxf-t2tr"]
    assert dallas.portal == "www.dallasopendata.com"
    assert dallas.license_fields == ["Open Data Commons Attribution License"]
    assert dallas.declared_frequency == "Every 2 Minutes"


def test_discovery_falls_back_to_updated_at_and_keeps_given_portal() -> None:
    records = records_by_id(LIMIT7, portal="example.gov")
    boston = records["msk6-43c6"]  # data_updated_at null in 2018
    assert boston.data_modified_at == utc(2017, 7, 21, 10, 1, 47)
    assert boston.portal == "example.gov"
    assert boston.license_fields == ["Creative Commons Attribution 3.0 Unported"]
    assert records["kwxv-fwze"].declared_frequency == "Twice weekly"


def test_nyc_discovery_asset_types() -> None:
    records = socrata.records_from_document(load_real(NYC_P1))
    assert len(records) == 100
    assert sum(record.is_dataset for record in records) == 63  # 63 dataset, 25 map, 10 href, 2 file
    first = records[0]
    assert (first.dataset_id, first.asset_type, first.is_dataset) == ("wnu3-egq7", "map", False)
    assert first.distributions == []
    assert first.downloads == 15
    p3 = records_by_id(NYC_P3)
    assert len(p3["e7gc-ub6z"].columns) == 9  # 13 columns, 4 computed
    assert p3["jagj-gttd"].declared_frequency == "Monthly"


def test_nyc_2013_views_fields() -> None:
    records = socrata.records_from_document(load_real(NYC_VIEWS), "data.cityofnewyork.us")
    assert len(records) == 350 and all(record.is_dataset for record in records)
    by_id = {record.dataset_id: record for record in records}
    hospitals = by_id["22b5-sytd"]
    assert hospitals.declared_frequency == "Annually"
    assert hospitals.data_modified_at == datetime.fromtimestamp(1363725732, tz=UTC)
    assert hospitals.created_at == datetime.fromtimestamp(1363718230, tz=UTC)
    assert hospitals.categories == ["Social Services"]
    assert hospitals.publisher == "Mayor's Office to Combat Domestic Violence (OCDV)"
    assert len(hospitals.columns) == 3
    assert all(column.description is None for column in hospitals.columns)  # descriptions are ""
    assert (hospitals.downloads, hospitals.views) == (1, 9)
    assert hospitals.license_fields == []
    assert hospitals.landing_page == "https://data.cityofnewyork.us/d/22b5-sytd"
    assert by_id["2bh6-qmgg"].is_dataset  # no displayType, default tabular view
    assert by_id["22zm-qrtq"].declared_frequency == "Historical Data"
    assert by_id["2enn-s52j"].declared_frequency is None  # "Update Frequency": ""


def test_sodademo_views_skip_computed_columns() -> None:
    records = records_by_id(SODADEMO)
    assert len(records["2asz-g9qq"].columns) == 17  # 18 columns, 1 computed
    assert records["2asz-g9qq"].columns[-1].name == "Document"
    assert len(records["4tka-6guv"].columns) == 8  # 9 columns, 1 computed
    assert records["4tka-6guv"].declared_frequency is None  # custom fields, none about frequency
    assert records["2646-ez2p"].data_modified_at == datetime.fromtimestamp(1420246585, tz=UTC)


def test_views_dataset_rule_and_licence_fields() -> None:
    views = [
        {
            "id": "aaaa-0001",
            "viewType": "tabular",
            "flags": ["default"],
            "licenseId": "CC0_10",
            "license": {"name": "Creative Commons 1.0 Universal (Public Domain Dedication)"},
        },
        {"id": "aaaa-0002", "viewType": "tabular", "flags": [], "displayType": "table"},
        {"id": "aaaa-0003", "viewType": "geo", "flags": ["default"]},
        {"id": "aaaa-0004", "assetType": "chart", "viewType": "tabular", "flags": ["default"]},
        {
            "id": "aaaa-0005",
            "assetType": "dataset",
            "viewType": "tabular",
            "metadata": {
                "custom_fields": {"Refresh": {"Periodicity": " "}, "Update": {"Frequency": "Weekly"}}
            },
        },
    ]
    records = socrata.records_from_document(views, "data.example.gov")
    assert [record.is_dataset for record in records] == [True, False, False, False, True]
    assert records[0].license_fields == [
        "Creative Commons 1.0 Universal (Public Domain Dedication)",
        "CC0_10",
    ]
    assert records[4].declared_frequency == "Weekly"  # the first *present* frequency field
    assert records[3].asset_type == "chart"


def test_not_a_socrata_document_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not a Socrata catalog document"):
        socrata.records_from_document("nonsense")
