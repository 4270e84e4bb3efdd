"""OpenDataSoft normalizer on hand-built documents in the Explore API's documented shapes.

No real ODS catalog was found recorded in public, so the documents below follow the Explore
v2.1 `catalog/datasets` shape (`total_count`, `results[]` of `dataset_id`, `metas.default`,
`metas.dcat`, `fields[]`), v2.0 (`datasets[].dataset`, `links`) and v1 (`nhits`,
`datasets[].datasetid`, flat `metas`), per PLATFORMS.md section 4.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import wwc_pipeline.connectors.opendatasoft as ods


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


FIELDS = [
    {"name": "station", "label": "Station", "type": "text", "description": "Station name"},
    {"name": "count", "label": "Count", "type": "int", "description": None},
]
DEFAULT_METAS = {
    "title": "Bike counts ",
    "description": "<p>Hourly counts &amp; totals.</p>",
    "theme": ["Transport", ""],
    "keyword": ["bike", "counts"],
    "license": "Open Database License (ODbL)",
    "license_url": "https://opendatacommons.org/licenses/odbl/",
    "modified": "2024-03-01T10:00:00+00:00",
    "data_processed": "2024-03-02T04:30:00+00:00",
    "metadata_processed": "2024-03-02T04:31:00+00:00",
    "publisher": "City of Example",
    "records_count": 1234,
    "update_frequency": "Daily",
}
DCAT_METAS = {"contact_email": "data@example.org", "accrualperiodicity": "weekly", "created": "2019-05-01"}
V21 = {
    "total_count": 2,
    "results": [
        {
            "dataset_id": "bike-counts",
            "has_records": True,
            "features": ["analyze"],
            "fields": FIELDS,
            "metas": {"default": DEFAULT_METAS, "dcat": DCAT_METAS},
        },
        {
            "dataset_id": "parks",
            "fields": [],
            "metas": {
                "default": {"title": "Parks", "modified": "2023-12-31", "update_frequency": "As needed"}
            },
        },
    ],
}
V20 = {
    "total_count": 1,
    "links": [{"href": "https://example.opendatasoft.com/api/v2/catalog/datasets", "rel": "self"}],
    "datasets": [
        {
            "links": [
                {
                    "href": "https://example.opendatasoft.com/api/v2/catalog/datasets/bike-counts",
                    "rel": "self",
                }
            ],
            "dataset": V21["results"][0],
        }
    ],
}
V1 = {
    "nhits": 1,
    "parameters": {"rows": 10, "start": 0},
    "datasets": [
        {
            "datasetid": "bike-counts",
            "metas": {**DEFAULT_METAS, "update_frequency": None},
            "interop_metas": {"dcat": {"contact_email": "v1@example.org", "accrualperiodicity": "Monthly"}},
            "fields": FIELDS,
        }
    ],
}


def test_v21_dataset_normalized() -> None:
    record = ods.records_from_document(V21, "example.opendatasoft.com")[0]
    assert record.platform == "opendatasoft" and record.is_dataset
    assert record.dataset_id == "bike-counts"
    assert record.title == "Bike counts"
    assert record.description == "<p>Hourly counts &amp; totals.</p>"  # raw: the checks take its text
    assert record.keywords == ["bike", "counts"]
    assert record.categories == ["Transport"]
    assert record.publisher == "City of Example"
    assert record.contact == "data@example.org"
    assert record.license_fields == ["Open Database License (ODbL)"]
    assert record.declared_frequency == "weekly"  # metas.dcat.accrualperiodicity before update_frequency
    assert record.data_modified_at == utc(2024, 3, 2, 4, 30)  # data_processed before modified
    assert record.created_at == utc(2019, 5, 1)
    assert record.row_count == 1234
    assert [(c.name, c.description, c.datatype) for c in record.columns] == [
        ("station", "Station name", "text"),
        ("count", None, "int"),
    ]
    root = "https://example.opendatasoft.com/api/explore/v2.1/catalog/datasets/bike-counts"
    assert [(d.format, d.url) for d in record.distributions] == [
        ("csv", f"{root}/exports/csv"),
        ("json", f"{root}/exports/json"),
        ("api", f"{root}/records"),
    ]


def test_fallbacks_when_dcat_template_is_off() -> None:
    record = ods.records_from_document(V21)[1]
    assert record.declared_frequency == "As needed"  # metas.default.update_frequency
    assert record.data_modified_at == utc(2023, 12, 31)  # no data_processed: modified
    assert record.contact is None and record.license_fields == []
    assert record.columns == []  # a column list, but empty: columns_documented is n/a
    assert [d.format for d in record.distributions] == ["csv", "json", "api"]  # even without a portal
    assert record.portal is None and record.distributions[0].url is None


def test_v20_reads_like_v21() -> None:
    v20 = ods.records_from_document(V20, "example.opendatasoft.com")
    v21 = ods.records_from_document(V21, "example.opendatasoft.com")[:1]
    assert [r.to_dict() for r in v20] == [r.to_dict() for r in v21]


def test_v1_flat_metas_and_interop_dcat() -> None:
    (record,) = ods.records_from_document(V1)
    assert record.dataset_id == "bike-counts"
    assert record.title == "Bike counts"
    assert record.contact == "v1@example.org"
    assert record.declared_frequency == "Monthly"
    assert record.license_fields == ["Open Database License (ODbL)"]
    assert record.data_modified_at == utc(2024, 3, 2, 4, 30)


def test_exports_json_list_reads_like_results() -> None:
    exported = ods.records_from_document(V21["results"])
    assert [r.dataset_id for r in exported] == ["bike-counts", "parks"]


@pytest.mark.parametrize("document", [V21, V20, V1, V21["results"], {"total_count": 0, "results": []}])
def test_looks_like_every_ods_shape(document: object) -> None:
    assert ods.looks_like(document)


@pytest.mark.parametrize(
    "document",
    [
        {"resultSetSize": 1, "results": [{"resource": {"id": "abcd-1234"}, "classification": {}}]},
        {"resultSetSize": 0, "results": []},
        [{"id": "abcd-1234", "viewType": "tabular", "assetType": "dataset"}],
        {"conformsTo": "https://project-open-data.cio.gov/v1.1/schema", "dataset": [{"identifier": "x"}]},
        {"help": "h", "success": True, "result": {"count": 1, "results": [{"id": "p", "resources": []}]}},
        [{"id": "p", "num_resources": 0}],
        {"results": []},
        "not a catalog",
    ],
)
def test_looks_like_refuses_other_platforms(document: object) -> None:
    assert not ods.looks_like(document)


def test_not_a_catalog_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not an OpenDataSoft catalog"):
        ods.records_from_document({"hello": "world"})
