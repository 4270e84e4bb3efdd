"""DCAT-US normalizer on the real recorded data.json files: values read by hand (jq) from the raw files.

Every expected value below was read from the raw JSON with jq, or comes from the test vectors
in real-portals/expected/, never from the code under test.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime

import pytest
import wwc_pipeline.connectors.dcat as dcat

from tests.conftest import REAL_PORTALS, load_real, manifest_rows

pytestmark = pytest.mark.contract

CHICAGO = "dcat-chicago-20130828.json"
BOSTON = "dcat-boston-20130828.json"
HEALTHDATA = "dcat-healthdata-gov-20190703.json"
INDIANAPOLIS = "dcat-indianapolis-20200804.json"
DC = "dcat-dc-20170315.json"
MINNEAPOLIS = "dcat-minneapolis-20220616.json"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def records_by_id(name: str) -> dict:
    return {record.dataset_id: record for record in dcat.records_from_document(load_real(name))}


def dcat_files() -> list[tuple[str, str]]:
    """(raw file, expected-file stem) of every DCAT file, the Minneapolis history included."""
    files = [
        (row["file"], row["file"].removesuffix(".json"))
        for row in manifest_rows()
        if row["platform"] == "dcat"
    ]
    history = REAL_PORTALS / "history" / "minneapolis" / "MANIFEST.tsv"
    if history.is_file():
        with history.open() as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                stem = "history--minneapolis--" + row["file"].removesuffix(".json")
                files.append(("history/minneapolis/" + row["file"], stem))
    return files


FILES = dcat_files()


@pytest.mark.parametrize(("name", "stem"), FILES, ids=[stem for _, stem in FILES])
def test_counts_and_order_follow_the_vectors(name: str, stem: str) -> None:
    """Assets, datasets and the dataset ids in catalog order, as the expected files give them."""
    summary = json.loads((REAL_PORTALS / "expected" / f"{stem}.summary.json").read_text())
    details = (REAL_PORTALS / "expected" / f"{stem}.details.jsonl").read_text().splitlines()
    records = dcat.records_from_document(load_real(name))
    datasets = [record for record in records if record.is_dataset]
    assert (len(records), len(datasets)) == (summary["assets"], summary["datasets"])
    assert [record.dataset_id for record in datasets] == [json.loads(line)["dataset_id"] for line in details]


@pytest.mark.parametrize("row", manifest_rows(), ids=lambda row: row["file"])
def test_looks_like_only_dcat_shapes(row: dict) -> None:
    assert dcat.looks_like(load_real(row["file"])) == (row["platform"] == "dcat")


def test_pod_1_0_list_skips_the_catalog_self_record() -> None:
    records = dcat.records_from_document(load_real(CHICAGO))
    first = records[0]
    assert first.dataset_id == "https://data.cityofchicago.org/data.json"
    assert first.is_dataset is False
    assert all(record.is_dataset for record in records[1:])
    assert first.portal == "data.cityofchicago.org"  # the file names its own domain


def test_pod_1_0_entry_fields() -> None:
    record = records_by_id(CHICAGO)["zgvr-7yfd"]
    assert record.title == "Elevation Benchmarks"
    assert record.keywords == ["benchmarks", "gis"]  # "keyword": "benchmarks,gis"
    assert record.data_modified_at == utc(2013, 7, 16)
    assert record.license_fields == []  # no `license` key
    assert record.declared_frequency is None
    assert record.publisher is None and record.contact is None
    assert record.columns is None
    formats = [distribution.format for distribution in record.distributions]
    # formats[0] = {"label": "csv", "value": "text/csv"}; the entry's own format is text/csv
    assert {"text/csv", "csv", "application/xml+rdf", "xlsx"} <= set(formats)
    assert formats.count("text/csv") == 2


def test_pod_1_0_licence_and_keywords_with_spaces() -> None:
    record = records_by_id(BOSTON)["p9yd-36dn"]
    assert record.title == "Children's Feeding Program"
    assert record.license_fields == ["Public Domain"]
    assert record.keywords == ["children", "food", "youth services"]
    assert record.data_modified_at == utc(2012, 9, 11)


def test_federal_entry_with_iso_frequency() -> None:
    record = records_by_id(HEALTHDATA)["https://data.cdc.gov/api/views/xkb8-kh2a"]
    assert record.declared_frequency == "R/P1M"
    assert record.contact == "mailto:nchsdata@cdc.gov"  # hasEmail before fn
    assert record.publisher == "Centers for Disease Control and Prevention"
    assert record.data_modified_at == utc(2019, 6, 12)
    assert record.license_fields == []  # "license": absent
    assert [(d.format, d.media_type) for d in record.distributions][:2] == [
        ("csv", "application/unknown"),
        ("rdf", "application/unknown"),
    ]


def test_repeating_rule_in_modified_is_no_time() -> None:
    record = records_by_id(HEALTHDATA)["2003711a-3d1c-4a0c-9928-09de5c42e2cf"]
    assert record.data_modified_at is None  # "modified": "R/P1Y"


def test_hub_entry_publisher_source_and_contact_fn_only() -> None:
    record = records_by_id(INDIANAPOLIS)["http://data.indy.gov/datasets/33dfc90039ec4f57bb16ff3167fba343_17"]
    assert record.title == "IMPD UCR Current Year"
    assert record.publisher == "City of Indianapolis and Marion County - IndyGIS"  # {"source": ...}
    assert record.contact == "IndyGIS"  # contactPoint has only fn
    assert record.license_fields == [
        "http://data.indy.gov/datasets/33dfc90039ec4f57bb16ff3167fba343_17/license.json"
    ]
    assert record.categories == ["geospatial"]
    assert record.data_modified_at == utc(2019, 2, 28, 19, 25, 37)
    assert [(d.format, d.media_type, d.title) for d in record.distributions] == [
        ("Web Page", "text/html", "ArcGIS Hub Dataset"),
        ("Esri REST", "application/json", "Esri Rest API"),
        ("GeoJSON", "application/vnd.geo+json", "GeoJSON"),
        ("CSV", "text/csv", "CSV"),
    ]


def test_hub_entry_without_theme() -> None:
    record = records_by_id(DC)["http://opendata.dc.gov/datasets/89cef30f210f4893bdb16cf63c2e9b7a_37"]
    assert record.categories == []  # "theme": null
    assert record.contact == "mailto:gisgroup@dc.gov?subject= DC AGO Question or Comment"
    assert record.publisher == "City of Washington, DC"
    assert record.data_modified_at == utc(2017, 3, 8, 20, 12, 54)


def test_html_licence_is_kept_raw() -> None:
    record = records_by_id(MINNEAPOLIS)[
        "https://opendata.minneapolismn.gov/maps/cityoflakes::snow-emergency-zenith-tags-2022"
    ]
    (licence,) = record.license_fields
    assert licence.startswith(
        "<p style='background:white;'><img src='https://creativecommons.org/publicdomain/zero/"
    )
    assert "&quot;Source Sans Pro&quot;" in licence  # entities untouched: the checks unescape once


def test_catalog_wrapper_and_bare_list_read_alike() -> None:
    document = load_real(MINNEAPOLIS)
    wrapped = dcat.records_from_document(document, "opendata.minneapolismn.gov")
    bare = dcat.records_from_document(document["dataset"], "opendata.minneapolismn.gov")
    assert [record.to_dict() for record in wrapped] == [record.to_dict() for record in bare]
    assert len(wrapped) == len(document["dataset"])


def test_not_a_catalog_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not a DCAT-US data.json"):
        dcat.records_from_document({"results": []})
