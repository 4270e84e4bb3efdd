"""CKAN normalizer on the real OpenDataPhilly dump: values read by hand (jq) from the raw file.

Every expected value below was read from the raw JSON with jq, or comes from the test vectors
in real-portals/expected/, never from the code under test. The last tests use small packages
written here for the rules the dump does not exercise (extras as an object, resource times).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import wwc_pipeline.connectors.ckan as ckan

from tests.conftest import REAL_PORTALS, load_real, manifest_rows

pytestmark = pytest.mark.contract

PHILLY = "ckan-opendataphilly-20160218.json"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def records_by_id() -> dict:
    return {record.dataset_id: record for record in ckan.records_from_document(load_real(PHILLY))}


def test_counts_and_order_follow_the_vectors() -> None:
    document = load_real(PHILLY)
    stem = PHILLY.removesuffix(".json")
    summary = json.loads((REAL_PORTALS / "expected" / f"{stem}.summary.json").read_text())
    details = (REAL_PORTALS / "expected" / f"{stem}.details.jsonl").read_text().splitlines()
    records = ckan.records_from_document(document)
    assert len(records) == summary["assets"] == summary["datasets"] == 329
    assert all(record.is_dataset for record in records)
    assert [record.dataset_id for record in records] == [json.loads(line)["dataset_id"] for line in details]


@pytest.mark.parametrize("row", manifest_rows(), ids=lambda row: row["file"])
def test_looks_like_only_ckan_shapes(row: dict) -> None:
    assert ckan.looks_like(load_real(row["file"])) == (row["platform"] == "ckan")


def test_frequency_from_extras_and_placeholder_licence() -> None:
    record = records_by_id()["25143cbb-27c6-4d4f-ae61-a274c4bfebf2"]
    assert record.title == "Childcare Map"
    assert record.declared_frequency == "Quarterly"  # extras "Update Frequency"
    assert record.license_fields == ["notspecified", "License Not Specified"]
    assert record.publisher == "The Reinvestment Fund"  # organization.title
    assert record.contact == "215-574-5866"  # maintainer_email, as the portal wrote it
    assert record.categories == ["Health / Human Services"]
    assert record.keywords == []
    assert record.data_modified_at == utc(2015, 1, 5, 18, 45, 12, 98573)  # metadata_modified, no offset
    assert [(d.format, d.media_type) for d in record.distributions] == [("HTML", None)]
    assert record.columns is None


def test_city_licence_and_formats() -> None:
    record = records_by_id()["7237b38c-0a98-468c-a532-98f50c359277"]
    assert record.title == "Green Stormwater Infrastructure Projects"
    assert record.declared_frequency == "Quarterly or As Needed"
    assert record.license_fields == ["other-philadelphia", "Other (City of Philadelphia)"]
    assert record.contact == "maryellen.mccarty@phila.gov"
    assert record.keywords == ["Water Department"]
    assert [d.format for d in record.distributions] == ["CSV", "KML", "shp", "geojson", "HTML", "api"]


def test_empty_contacts_and_volunteer_publisher() -> None:
    record = records_by_id()["c2479218-cde3-4203-94fb-0f95e2babd96"]
    assert record.declared_frequency == "hourly"
    assert record.publisher == "Volunteer"
    assert record.contact is None  # maintainer_email "" and author_email ""
    assert [d.format for d in record.distributions] == ["tsv"]


def test_datastore_resources_add_a_datastore_distribution() -> None:
    record = records_by_id()["7ebad97f-8b34-4737-83ed-7b703cdc6b7d"]
    assert record.title == "Bicycle Thefts"
    formats = [d.format for d in record.distributions]
    assert len(formats) == 9 + 2  # nine resources, two with datastore_active: true
    assert formats.count("datastore") == 2
    assert formats[:3] == ["HTML", "CSV", "datastore"]


def test_compound_format_text_is_kept() -> None:
    record = records_by_id()["b80f75b3-9206-4d43-9959-b5d5a37a21e6"]
    assert {d.format for d in record.distributions} == {"zip:csv"}


def test_api_envelopes_read_like_the_dump() -> None:
    packages = load_real(PHILLY)[:5]
    expected = [record.to_dict() for record in ckan.records_from_document(packages)]
    search = {"help": "h", "success": True, "result": {"count": 5, "results": packages}}
    listing = {"help": "h", "success": True, "result": packages}
    for document in (search, listing):
        assert ckan.looks_like(document)
        assert [record.to_dict() for record in ckan.records_from_document(document)] == expected


# ---------------------------------------------------------------- rules the dump does not exercise


def package(**fields: object) -> dict:
    return {"id": "p1", "title": "T", "resources": [], **fields}


def test_top_level_frequency_key_comes_before_extras() -> None:
    document = [
        package(
            accrual_periodicity="", update_frequency="weekly", extras=[{"key": "Frequency", "value": "daily"}]
        )
    ]
    (record,) = ckan.records_from_document(document)
    assert record.declared_frequency == "weekly"  # the first key with a present value


def test_extras_as_an_object_and_html_frequency_text() -> None:
    (record,) = ckan.records_from_document([package(extras={"Periodicity": "<b>Monthly</b> "})])
    assert record.declared_frequency == "Monthly"


def test_last_update_is_the_latest_resource_time() -> None:
    resources = [
        {"format": "CSV", "last_modified": "2020-01-02T03:04:05"},
        {"format": "CSV", "last_modified": "2021-06-01"},
        {"format": "CSV", "last_modified": "not a date"},
    ]
    (record,) = ckan.records_from_document(
        [package(resources=resources, metadata_modified="2022-01-01T00:00:00")]
    )
    assert record.data_modified_at == utc(2021, 6, 1)
    (bare,) = ckan.records_from_document([package(metadata_modified="2022-01-01T00:00:00")])
    assert bare.data_modified_at == utc(2022, 1, 1)


def test_author_when_no_organization() -> None:
    (record,) = ckan.records_from_document(
        [package(organization=None, author="Jane", author_email="j@x.org")]
    )
    assert (record.publisher, record.contact) == ("Jane", "j@x.org")
