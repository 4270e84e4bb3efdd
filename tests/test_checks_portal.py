"""Portal signals on hand-built records: phrases, word boundaries, inventory age, departments.

Performance and procurement moved to the key dataset matcher (tests/test_key_datasets.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from wwc_pipeline.checks.portal import (
    catalog_activity,
    department_coverage,
    inventory,
    policy_document,
)

from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.results import PortalContext, Status

AS_OF = datetime(2024, 6, 1, tzinfo=UTC)


def record(dataset_id: str, title: str, description: str | None = None, **kwargs) -> DatasetRecord:
    return DatasetRecord(
        "socrata", "data.example.gov", dataset_id, title=title, description=description, **kwargs
    )


def context(departments: list[str] | None = None) -> PortalContext:
    return PortalContext("socrata", "data.example.gov", AS_OF, departments=departments)


def days_ago(days: float) -> datetime:
    return AS_OF - timedelta(days=days)


def only(results):
    assert len(results) == 1 and results[0].dataset_id is None
    return results[0]


@pytest.mark.parametrize(
    ("check", "title", "description", "found"),
    [
        (policy_document, "Open Data Policy", None, True),
        (policy_document, "Executive Order 2012-2", "The open data executive order of the Mayor.", True),
        (policy_document, "Crimes", "Published under the city&#39;s <b>Data Policy</b>.", True),
        (policy_document, "Police Stations", "Locations of police stations.", False),
        (policy_document, "State Health IT Policy Levers", "Health policy levers.", False),
    ],
)
def test_signal_phrases(check, title, description, found):
    result = only(check([record("x-1", title, description)], context()))
    assert result.status is (Status.PASS if found else Status.FAIL)
    assert result.value["score"] == (100.0 if found else 0.0)
    assert result.value["found"] == (1 if found else 0)


def test_signal_evidence_lists_title_matches_first_and_at_most_ten():
    records = [record(f"d{i}", "Street trees", "Published under the open data policy.") for i in range(12)]
    records.append(record("pol", "Open Data Policy"))
    result = only(policy_document(records, context()))
    assert result.value["found"] == 13 and len(result.value["matches"]) == 10
    assert result.value["matches"][0] == {
        "dataset_id": "pol",
        "title": "Open Data Policy",
        "field": "title",
        "phrase": "open data policy",
    }
    assert "13" in result.reason


def test_signals_read_non_dataset_assets():
    page = record("h-1", "Open Data Policy (PDF)", asset_type="href", is_dataset=False)
    assert only(policy_document([page], context())).value["matches"][0]["dataset_id"] == "h-1"


def test_keywords_alone_are_not_evidence():
    tagged = record("spin", "Spin", "Scooter trips.", keywords=["open data policy"])
    assert only(policy_document([tagged], context())).status is Status.FAIL


def test_signals_without_records_are_na():
    for check in (policy_document, inventory):
        result = only(check([], context()))
        assert result.status is Status.NA and result.value["score"] is None


def test_inventory_recent_old_and_missing():
    recent = record("inv", "Dataset Inventory", data_modified_at=days_ago(30))
    old = record("inv", "Open Data Inventory", data_modified_at=days_ago(400))
    undated = record("inv", "Data.Seattle.gov Catalog")
    trees = record("t", "Tree Inventory", data_modified_at=days_ago(1))

    found = only(inventory([trees, recent], context()))
    assert found.value["inventory"]["dataset_id"] == "inv"
    assert found.value["inventory"]["updated_at"] == days_ago(30).isoformat()
    assert found.value["inventory"]["recent_until"] == days_ago(30 - 365).isoformat()
    assert found.value["score"] == 100.0 and found.status is Status.PASS
    aged = only(inventory([old], context()))
    assert aged.value["score"] == 50.0 and aged.status is Status.FAIL
    assert aged.value["inventory"]["updated_within_year"] is False
    assert only(inventory([undated], context())).value["inventory"]["updated_at"] is None
    missing = only(inventory([trees, record("a", "Public Art Inventory")], context()))
    assert missing.value["inventory"]["found"] is False and missing.value["score"] == 0.0


def test_inventory_takes_the_newest_of_several():
    records = [
        record("old", "Data Inventory", data_modified_at=days_ago(500)),
        record("new", "Data Inventory 2024", metadata_modified_at=days_ago(10)),
    ]
    found = only(inventory(records, context()))
    assert found.value["inventory"]["dataset_id"] == "new" and found.value["inventory"]["candidates"] == 2


def test_department_coverage_math():
    datasets = [
        record("1", "A", publisher="Chicago Police Department"),
        record("2", "B", publisher="Department of Finance"),
        record("3", "C", publisher="department of finance"),
        record("4", "D", publisher=None),
    ]
    part = department_coverage(datasets, ["Police", "Finance", "Fire", "Water Management", "police"])
    assert part["distinct_publishers"] == 2
    assert part["configured"] == 4  # "Police" and "police" are one department
    assert part["covered"] == 2 and part["share"] == 0.5 and part["score"] == 50.0
    assert part["missing"] == ["Fire", "Water Management"] and part["meets_80_percent"] is False
    assert department_coverage(datasets, None)["score"] is None
    assert department_coverage(datasets, ["Fire Department"])["covered"] == 0


def test_inventory_score_is_the_mean_of_its_parts():
    records = [
        record("inv", "Data Inventory", data_modified_at=days_ago(10)),
        record("1", "A", publisher="Police Department"),
        record("2", "B", publisher="Fire Department"),
        record("h", "Page", publisher="Streets Department", is_dataset=False),
    ]
    result = only(inventory(records, context(["Police", "Fire", "Streets", "Parks", "Library"])))
    assert result.value["departments"]["covered"] == 2  # a non-dataset asset does not count
    assert result.value["score"] == (100.0 + 40.0) / 2
    assert result.status is Status.FAIL
    full = only(inventory(records, context(["Police", "Fire"])))
    assert full.value["score"] == 100.0 and full.status is Status.PASS


def test_catalog_activity_shares_and_ages():
    records = [
        record("1", "A", data_modified_at=days_ago(10), created_at=days_ago(100)),
        record("2", "B", data_modified_at=days_ago(365), created_at=days_ago(366)),
        record("3", "C", data_modified_at=days_ago(365.5)),
        record("4", "D", data_modified_at=AS_OF + timedelta(days=3)),
        record("5", "E"),
        record("s", "Story", is_dataset=False, data_modified_at=days_ago(1)),
    ]
    result = only(catalog_activity(records, context()))
    assert result.value["datasets"] == 5 and result.value["with_last_update"] == 4
    assert result.value["updated_last_365_days"] == 3
    assert result.value["share_updated_365_days"] == 0.75 and result.value["score"] == 75.0
    assert result.value["created_last_365_days"] == 1 and result.value["with_created"] == 2
    assert result.status is Status.FAIL
    none = only(catalog_activity([record("5", "E")], context()))
    assert none.status is Status.NA and none.value["score"] is None


def test_every_portal_check_is_registered_under_its_fixed_id():
    import wwc_pipeline.checks.content  # noqa: F401 - registers on import
    import wwc_pipeline.checks.links  # noqa: F401

    from wwc_pipeline.registry import PORTAL_CHECKS

    expected = {
        "portal.policy_document",
        "key_datasets.types",
        "key_datasets.disaggregated",
        "portal.inventory",
        "portal.catalog_activity",
        "links.reachable",
        "content.quality",
        "content.schema_drift",
    }
    assert expected <= set(PORTAL_CHECKS)


@pytest.mark.parametrize(
    "title",
    [
        "Open Data Inventory",
        "Data <b>Inventory</b>",
        "Data &#73;nventory 2020",  # an entity spells the word
        "Site Analytics: Asset Inventory",
        "asset inventory",
        "Catalogue of City Datasets",
        "Catalog of all the open datasets",
        "Datasets_catalog",
        "DATA   CATALOGUE",
        "Inventory of trees",
        "Tree inventory",
        "Crime reports",
        "Café data inventory",
        "",
        None,
    ],
)
def test_an_inventory_title_is_found_as_every_pattern_on_the_normalized_title_finds_it(title):
    import re

    from wwc_pipeline.checks.portal import INVENTORY_TITLES, inventory_title, normalize

    expected = any(re.search(pattern, normalize(title)) for pattern in INVENTORY_TITLES)
    assert inventory_title(title) is expected
