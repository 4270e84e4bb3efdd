"""The rules of METRICS.md, one by one, on hand-made records and the spec's own examples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import wwc_pipeline.checks.formats as formats
import wwc_pipeline.checks.freshness as freshness_checks
import wwc_pipeline.checks.licences as licences
import wwc_pipeline.checks.metadata as metadata

from wwc_pipeline.evaluate import METRIC_NAMES, evaluate_records, evaluation_json, summarize
from wwc_pipeline.frequency import Frequency, parse_frequency
from wwc_pipeline.model import Column, DatasetRecord, Distribution
from wwc_pipeline.results import Status
from wwc_pipeline.text import text

AS_OF = datetime(2024, 1, 31, tzinfo=UTC)


def record(**fields) -> DatasetRecord:
    return DatasetRecord(
        platform="test", portal="data.example.gov", dataset_id=fields.pop("dataset_id", "x"), **fields
    )


# --- Frequency ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "days"),
    [
        ("R/P1D", 1),
        ("R/P1W", 7),
        ("R/P2W", 14),
        ("R/P0.5M", 16),
        ("R/P1M", 31),
        ("R/P2M", 61),
        ("R/P3M", 92),
        ("R/P6M", 183),
        ("R/P1Y", 366),
        ("R/P2Y", 731),
        ("R/P3Y", 1096),
        ("r/p1w", 7),
        (" R/P1D ", 1),
        ("R/PT1H", 1),
        ("R/PT10M", 1),
        ("R/P0D", 1),
    ],
)
def test_iso_repeating_rules(rule: str, days: int) -> None:
    assert parse_frequency(rule) == Frequency("period", days)


@pytest.mark.parametrize(
    ("phrase", "days"),
    [
        ("Data are updated daily", 1),
        ("Bi-weekly", 14),
        ("Data is updated every 15 minutes", 1),
        ("Biannually ", 183),
        ("Semi-annually", 183),
        ("Twice a week", 4),
        ("Every 6 months", 183),
        ("Weekly, or daily when needed", 7),
        ("Daily beginning 7/1/19; twice weekly previously", 1),
        ("otherwise monthly", 31),
        ("Multiple times a day", 1),
        ("every 2 years", 731),
        ("Triennial", 1096),
    ],
)
def test_cadence_phrases(phrase: str, days: int) -> None:
    assert parse_frequency(phrase) == Frequency("period", days)


@pytest.mark.parametrize(
    "phrase",
    ["Data are updated as needed", "Historical Data", "Not updated (historical data)", "Other", "AD-HOC"],
)
def test_no_cadence(phrase: str) -> None:
    assert parse_frequency(phrase) == Frequency("no_cadence")


@pytest.mark.parametrize("phrase", ["Manual Post", "R/P1Y6M", "dailyish", "annualized", "Current"])
def test_unrecognized(phrase: str) -> None:
    assert parse_frequency(phrase) == Frequency("unrecognized")


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing(value: str | None) -> None:
    assert parse_frequency(value).kind == "missing"


# --- Freshness ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "age", "status"),
    [
        ("Daily", timedelta(days=2.5), "fresh"),
        ("Daily", timedelta(days=2.5, seconds=1), "stale"),
        ("Weekly", timedelta(days=11.5), "fresh"),
        ("Weekly", timedelta(days=11.6), "stale"),
        ("Daily", timedelta(days=-3), "fresh"),
        ("As needed", timedelta(days=900), "no_cadence"),
        ("sometimes", timedelta(days=1), "unknown"),
        (None, timedelta(days=1), "unknown"),
    ],
)
def test_freshness_status(frequency: str | None, age: timedelta, status: str) -> None:
    dataset = record(declared_frequency=frequency, data_modified_at=AS_OF - age)
    got_status, age_days, _ = freshness_checks.freshness_of(dataset, AS_OF)
    assert got_status == status
    assert age_days == age.total_seconds() / 86400


def test_no_last_update_is_unknown_even_without_cadence() -> None:
    assert freshness_checks.freshness_of(record(declared_frequency="As needed"), AS_OF) == (
        "unknown",
        None,
        None,
    )
    assert freshness_checks.freshness_of(record(declared_frequency="Monthly"), AS_OF) == ("unknown", None, 31)


def test_fresh_and_declares_frequency_checks() -> None:
    stale = record(declared_frequency="R/P1M", data_modified_at=AS_OF - timedelta(days=100))
    assert freshness_checks.fresh(stale, AS_OF).status is Status.FAIL
    assert freshness_checks.fresh(record(declared_frequency="never"), AS_OF).status is Status.NA
    assert (
        freshness_checks.declares_frequency(record(declared_frequency="never"), AS_OF).status is Status.PASS
    )
    assert (
        freshness_checks.declares_frequency(record(declared_frequency="Current"), AS_OF).status is Status.FAIL
    )
    assert freshness_checks.declares_frequency(record(), AS_OF).status is Status.FAIL


# --- Licences ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    ["", "notspecified", "Not Specified", "License Not Specified", "OTHER", "none", "N/A", "<p> </p>"],
)
def test_licence_not_given(field: str) -> None:
    assert not licences.is_given(field)
    result = licences.open_license(record(license_fields=[field]), AS_OF)
    assert result.status is Status.NA


@pytest.mark.parametrize(
    ("fields", "is_open"),
    [
        (["Public Domain"], True),
        (["cc-by"], True),
        (["CC0 1.0 Universal"], True),
        (["Creative Commons Attribution 4.0 International"], True),
        (['<a href="https://creativecommons.org/licenses/by/4.0/">License</a>'], True),
        (['<a href="http://opendatacommons.org/licenses/odbl/">link</a>'], True),
        (["Creative&nbsp;Commons Attribution"], True),
        (["Open Government Licence"], True),
        (["See Terms of Use"], False),
        (["Other (City of Philadelphia)"], False),
        (["https://hub.arcgis.com/api/v3/datasets/abc_0/license.json"], False),
        (["CC BY-NC 4.0"], False),
        (["cc-by-nd"], False),
        (["Creative Commons Attribution", "non-commercial"], False),
        (["notspecified", "Public Domain"], True),
    ],
)
def test_open_licence(fields: list[str], is_open: bool) -> None:
    dataset = record(license_fields=fields)
    assert licences.has_license(dataset, AS_OF).status is Status.PASS
    assert licences.open_license(dataset, AS_OF).status is (Status.PASS if is_open else Status.FAIL)


def test_no_licence_fields_fails_has_license() -> None:
    assert licences.has_license(record(), AS_OF).status is Status.FAIL


# --- Formats -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("distribution", "tokens"),
    [
        (Distribution(format="CSV"), {"csv"}),
        (Distribution(format=".geojson"), {"geojson"}),
        (Distribution(format="application/pdf; charset=binary"), set()),
        (Distribution(format="text/csv; charset=utf-8"), {"csv"}),
        (Distribution(media_type=" Application/JSON "), {"json"}),
        (Distribution(format="zip:csv"), {"csv"}),
        (Distribution(format="Esri REST"), {"arcgis geoservices"}),
        (Distribution(format="OGC WMS"), {"wms"}),
        (Distribution(format="ZIP", title="Shapefile"), {"shapefile"}),
        (Distribution(format="shp"), {"shapefile"}),
        (Distribution(format="XLSX"), {"xlsx"}),
        (Distribution(format="PDF"), set()),
        (Distribution(format="csv_json"), {"csv", "json"}),
        (Distribution(format="json-ld"), {"json-ld"}),
        (Distribution(format="Web page", media_type="text/html"), set()),
    ],
)
def test_format_tokens(distribution: Distribution, tokens: set[str]) -> None:
    assert formats.format_tokens(distribution) == tokens


def test_machine_readable_but_not_open() -> None:
    dataset = record(distributions=[Distribution(format="PDF"), Distribution(format="xlsx")])
    assert formats.machine_readable(dataset, AS_OF).status is Status.PASS
    assert formats.open_format(dataset, AS_OF).status is Status.FAIL
    assert formats.machine_readable(record(), AS_OF).status is Status.FAIL


# --- Text rules and metadata -------------------------------------------------------------------


def test_text_rules() -> None:
    assert text("<p>Crime&nbsp;<b>reports</b></p>\n") == "Crime reports"
    assert text({"name": " ", "source": "Dept"}) == "Dept"
    assert text([1, True, None]) == "1 true"


@pytest.mark.parametrize(
    ("title", "description", "status"),
    [
        ("Permits", "Building permits issued", Status.PASS),
        ("Permits", "PERMITS", Status.FAIL),
        ("Permits", "<p> </p>", Status.FAIL),
        (None, "Something", Status.PASS),
        ("Permits", None, Status.FAIL),
    ],
)
def test_has_description(title: str | None, description: str | None, status: Status) -> None:
    assert metadata.has_description(record(title=title, description=description), AS_OF).status is status


def test_list_and_single_fields() -> None:
    assert metadata.has_keywords(record(keywords=["", " "]), AS_OF).status is Status.FAIL
    assert metadata.has_keywords(record(keywords=["", "roads"]), AS_OF).status is Status.PASS
    assert metadata.has_category(record(categories=["Transport"]), AS_OF).status is Status.PASS
    assert metadata.has_publisher(record(publisher="&nbsp;"), AS_OF).status is Status.FAIL
    assert metadata.has_contact(record(contact="open@example.gov"), AS_OF).dataset_id == "x"


@pytest.mark.parametrize(
    ("described", "total", "status"), [(4, 5, Status.PASS), (3, 5, Status.FAIL), (0, 1, Status.FAIL)]
)
def test_columns_documented_threshold(described: int, total: int, status: Status) -> None:
    columns = [Column(f"c{i}", "about it" if i < described else None) for i in range(total)]
    assert metadata.columns_documented(record(columns=columns), AS_OF).status is status


def test_columns_documented_na_without_columns() -> None:
    assert metadata.columns_documented(record(columns=None), AS_OF).status is Status.NA
    assert metadata.columns_documented(record(columns=[]), AS_OF).status is Status.NA


# --- Summary: counts, rounding, median ---------------------------------------------------------


def aged(dataset_id: str, days: float | None, frequency: str = "Daily", **fields) -> DatasetRecord:
    updated = None if days is None else AS_OF - timedelta(days=days)
    return record(dataset_id=dataset_id, declared_frequency=frequency, data_modified_at=updated, **fields)


def test_summary_counts_rounding_and_median() -> None:
    records = [
        aged("a", 1, description="d1", keywords=["roads"]),
        aged("b", 10, frequency="Weekly", description="d2", keywords=["parks"]),
        aged("c", 90, frequency="Monthly", description="d3"),
        aged("d", -2, frequency="As needed"),
        aged("e", None),
        aged("f", 500, is_dataset=False),  # an asset that is not a dataset
        aged("a", 1),  # the same id listed twice: both count
    ]
    evaluation = evaluate_records(records, AS_OF, "test", "data.example.gov")
    assert (evaluation.assets, evaluation.datasets) == (7, 6)
    metrics = evaluation.metrics
    assert list(metrics) == [*METRIC_NAMES, "freshness"]
    assert metrics["has_description"] == {"pass": 3, "fail": 3, "na": 0, "share": 0.5}
    assert metrics["has_keywords"] == {"pass": 2, "fail": 4, "na": 0, "share": 0.3333}
    assert metrics["fresh"] == {"pass": 3, "fail": 1, "na": 2, "share": 0.75}
    assert metrics["open_license"] == {"pass": 0, "fail": 0, "na": 6, "share": None}
    # ages 1, 10, 90, -2, 1 (e has none): median 1; 90 days and the future date count as recent
    assert metrics["freshness"] == {
        "fresh": 3,
        "stale": 1,
        "no_cadence": 1,
        "unknown": 1,
        "share_fresh": 0.75,
        "median_age_days": 1.0,
        "updated_last_90_days": 5,
    }
    assert "".join(line.record.dataset_id for line in evaluation.dataset_evaluations) == "abcdea"


def test_even_count_median_and_union_of_portals() -> None:
    first = evaluate_records([aged("a", 1.25), aged("b", 2.0)], AS_OF, "test", "one.example.gov")
    second = evaluate_records([aged("c", 3.0), aged("d", 100.0)], AS_OF, "test", "two.example.gov")
    assert first.metrics["freshness"]["median_age_days"] == 1.6  # 1.625, Python round()
    union = summarize(first.dataset_evaluations + second.dataset_evaluations)
    assert union["freshness"]["median_age_days"] == 2.5
    assert union["freshness"]["updated_last_90_days"] == 3
    assert union["has_keywords"]["fail"] == 4


def test_json_and_details_shapes() -> None:
    evaluation = evaluate_records([aged("a", 0.5, title="<b>Roads</b>")], AS_OF, "test", None)
    document = evaluation_json(evaluation, {"MEASURE-1": {"score": 1}})
    naive = evaluate_records([aged("a", 0.5)], AS_OF.replace(tzinfo=None), "test", None)
    assert naive.dataset_evaluations[0].age_days == 0.5
    assert list(document) == ["platform", "portal", "as_of", "assets", "datasets", "metrics", "criteria"]
    assert document["as_of"] == "2024-01-31T00:00:00+00:00" and document["portal"] is None
    line = evaluation.dataset_evaluations[0].details_line()
    assert list(line) == ["dataset_id", "title", *METRIC_NAMES, "freshness", "age_days", "period_days"]
    assert (line["title"], line["fresh"], line["open_license"]) == ("Roads", True, None)
    assert (line["freshness"], line["age_days"], line["period_days"]) == ("fresh", 0.5, 1)
