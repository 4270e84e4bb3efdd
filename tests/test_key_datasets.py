"""The key dataset matcher and its checks on hand-built records; its config, validated and extended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from wwc_pipeline.checks.key_datasets import disaggregated, key_dataset_types

from wwc_pipeline.config import ConfigError, default_config_file
from wwc_pipeline.keydata.columns import dimensions_found
from wwc_pipeline.keydata.matching import classify
from wwc_pipeline.keydata.rules import load_key_datasets
from wwc_pipeline.model import Column, DatasetRecord, Distribution
from wwc_pipeline.results import PortalContext, Status

AS_OF = datetime(2024, 6, 1, tzinfo=UTC)
CONFIG = load_key_datasets()


def record(dataset_id: str, title: str, description: str | None = None, **kwargs) -> DatasetRecord:
    return DatasetRecord(
        "socrata", "data.example.gov", dataset_id, title=title, description=description, **kwargs
    )


def types_of(title: str, description: str | None = None, **kwargs) -> list[str]:
    return [match.type_id for match in classify(record("x", title, description, **kwargs), CONFIG)]


def context() -> PortalContext:
    return PortalContext("socrata", "data.example.gov", AS_OF)


@pytest.mark.parametrize(
    ("title", "description", "expected"),
    [  # the phrases the former portal signals were tested on, now key types
        ("Citywide Performance Measures Data", None, ["performance"]),
        ("DC Agency Performance Data (KPI's) - 2012", None, ["performance"]),
        ("CitiStat Meeting Minutes", None, ["performance"]),
        ("Seattle Crime Stats by Precinct", "Statistics on crime.", []),
        ("Vital statistics", "Births and deaths statistics by year.", []),
        ("Smart thermostat pilot", None, []),
        ("Quantitat d'aigua", "Estat dels embassaments.", []),
        ("Building Energy Performance Benchmarking", None, []),
        ("Street lights", "Tracked at CompStat meetings.", ["performance"]),
        ("Potholes", "Tracks progress toward our street goals.", ["performance"]),
        ("Purchase Orders in 2017", None, ["procurement_contracts"]),
        ("Contracts", None, ["procurement_contracts"]),
        ("Payments", "All vendor payments made by the City.", ["spending"]),
        ("2015 Bid Results", None, ["procurement_contracts"]),
        ("Street Vendor Locations", "Licensed street vendors.", []),
        ("Grand Street BID Business Directory", None, []),
        ("Licensed Contractors", "Contractors licensed by the city.", []),
    ],
)
def test_phrases(title, description, expected):
    assert types_of(title, description) == expected


def test_a_more_telling_match_survives_an_exclusive_one():
    """A crime dataset described as CompStat evidence stays crime, and is performance too."""
    assert types_of("Crimes", "Reviewed at CompStat meetings.") == ["crime", "performance"]
    assert types_of("Performance Metrics - Crimes Cleared") == ["performance"]


def test_keywords_alone_are_not_evidence():
    assert types_of("Spin", "Scooter trips.", keywords=["rfp", "procurement", "performance"]) == []


def test_derived_views_count_with_their_parent_and_pages_only_for_performance():
    chart = record("c", "Crimes - Chart", asset_type="chart", is_dataset=False)
    story = record("s", "How we work", asset_type="story", is_dataset=False, categories=["Performance"])
    assert classify(chart, CONFIG) == []
    assert [m.type_id for m in classify(story, CONFIG)] == ["performance"]


def test_a_conjunction_rule_needs_every_field():
    columns = [Column("IUCR"), Column("Primary Type")]
    assert types_of("Incidents", columns=columns) == ["crime"]
    assert types_of("Incidents") == []
    assert types_of("Incidents", columns=[Column("Case Number")]) == []


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["page", "page_count", "average", "agency", "mileage"], set()),
        (["wardrobe", "award_amount", "toward"], set()),
        (["zipcode"], {"zip"}),
        (["ZipCode"], {"zip"}),
        (["council_district"], {"council_district"}),
        (["councilDistrict"], {"council_district"}),
        (["WARD"], {"council_district"}),
        (["age_group", "victim_sex", "race"], {"age", "sex_gender", "race_ethnicity"}),
        (["building_age", "age_of_case", "record_age_days"], set()),
        (["contact_1_zipcode", "owner_zip", "lobbyist_zip"], set()),
        (["census_tract", "block_group"], {"census_tract"}),
        (["median_household_income"], {"income"}),
        (["investment_income", "net_income"], set()),
        (["primary_language", "disability_status"], {"language", "disability"}),
        (["harassment_neighborhood"], set()),
        (["neighborhood", "community_area"], {"neighbourhood"}),
    ],
)
def test_dimensions_in_column_names(names, expected):
    columns = [Column(name) for name in names]
    assert set(dimensions_found(record("x", "T", columns=columns), CONFIG)) == expected


def test_unknown_columns_are_not_an_answer():
    assert dimensions_found(record("x", "T"), CONFIG) is None
    assert dimensions_found(record("x", "T", columns=[]), CONFIG) == {}


def test_the_types_check_answers_the_census_questions_per_match():
    fresh = record(
        "crimes",
        "Crimes - 2001 to present",
        distributions=[Distribution(format="csv", url="https://data.example.gov/crimes.csv")],
        license_fields=["Public Domain"],
        declared_frequency="daily",
        data_modified_at=AS_OF - timedelta(hours=6),
        columns=[Column("Ward")],
    )
    pdf = record("crimes-pdf", "Crime Report", distributions=[Distribution(format="PDF", url="javascript:x")])
    (result,) = key_dataset_types([pdf, fresh, record("t", "Street Trees")], context())
    crime = next(t for t in result.value["types"] if t["id"] == "crime")
    assert [m["dataset_id"] for m in crime["matches"]] == ["crimes", "crimes-pdf"]  # the more open first
    best, other = crime["matches"]
    assert best["answers"] == {
        "online": True,
        "machine_readable": True,
        "bulk": True,
        "open_license": True,
        "fresh": True,
    }
    assert other["answers"]["machine_readable"] is False and other["answers"]["open_license"] is False
    assert best["link"] == "https://data.example.gov/crimes.csv" and other["link"] is None
    assert best["dimensions"] == {"council_district": ["ward"]} and other["dimensions"] is None
    assert best["rule"]["title"]["matched"] == "crimes"
    assert "crime" not in result.value["missing"] and "budget" in result.value["missing"]
    assert result.status is Status.PASS and result.value["found"] == 1


def test_format_copies_count_once_as_variants():
    titles = ["CTA - Bus Routes", "CTA - Bus Routes - KML", "CTA - Bus Routes - Shapefile", "CTA - Bus Stops"]
    (result,) = key_dataset_types([record(str(i), t) for i, t in enumerate(titles)], context())
    transit = next(t for t in result.value["types"] if t["id"] == "transit")
    assert transit["count"] == 2
    assert sorted(m["variants"] for m in transit["matches"]) == [0, 2]


def test_the_disaggregation_check_counts_tabular_datasets_only():
    records = [
        record("a", "A", columns=[Column("Ward"), Column("Amount")]),
        record("b", "B", columns=[Column("Amount")]),
        record("c", "C"),  # no column list: not tabular
        record("d", "D", columns=[Column("zip")], is_dataset=False),
    ]
    (result,) = disaggregated(records, context())
    assert result.value["tabular"] == 2 and result.value["disaggregated"] == 1
    assert result.value["without_columns"] == 1 and result.value["score"] == 50.0
    assert result.value["dimensions"] == {"council_district": 1}
    (none,) = disaggregated([record("c", "C")], context())
    assert none.status is Status.NA and none.value["score"] is None


def shipped() -> dict:
    return yaml.safe_load(default_config_file("key_datasets.yaml").read_text())


def test_a_new_type_is_one_yaml_entry(tmp_path, monkeypatch):
    data = shipped()
    data["types"].append(
        {
            "id": "animal_control",
            "name": "Animal control",
            "definition": "Animal control calls and shelter intakes.",
            "sets": ["extra"],
            "match": [{"title": r"\banimal (?:control|shelter intakes?)\b"}],
        }
    )
    path = tmp_path / "key_datasets.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    monkeypatch.setenv("WWC_KEY_DATASETS_FILE", str(path))
    records = [record("1", "Animal Control Calls"), record("2", "Animal Crossing Signs")]
    (result,) = key_dataset_types(records, context())
    added = next(t for t in result.value["types"] if t["id"] == "animal_control")
    assert [m["dataset_id"] for m in added["matches"]] == ["1"] and added["sets"] == ["extra"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["types"][0]["match"].append({"title": "(unclosed"}), "types.0.match"),
        (lambda d: d["types"][0]["match"].append({}), "a rule needs at least one of"),
        (lambda d: d["types"][0]["match"].append({"tags": "x"}), "types.0.match"),
        (lambda d: d["types"].append(dict(d["types"][0])), "appears twice"),
        (lambda d: d["disaggregation"]["dimensions"][0]["match"].append("[a-"), "invalid regular expression"),
        (lambda d: d["exclude"][0].update(except_types=["nope"]), "unknown type(s) nope"),
    ],
)
def test_bad_config_is_one_line(tmp_path, change, message):
    data = shipped()
    change(data)
    path = tmp_path / "k.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as error:
        load_key_datasets(path)
    assert message in str(error.value) and str(path) in str(error.value)
    assert "\n" not in str(error.value)


def test_a_missing_file_says_how_to_fix_it(tmp_path):
    with pytest.raises(ConfigError, match="WWC_KEY_DATASETS_FILE"):
        load_key_datasets(Path(tmp_path / "absent.yaml"))


def test_the_criteria_name_sets_the_key_datasets_config_has():
    from wwc_pipeline.config import load_criteria

    sets = {name for key_type in CONFIG.types for name in key_type.sets}
    keyed = [c for c in load_criteria().criteria if c.kind == "key_datasets"]
    assert {c.id for c in keyed} == {
        "MEASURE-OD-KEYDATA",
        "MEASURE-PERF-PUBLIC",
        "ACT-PROCUREMENT",
        "MEASURE-DM-DISAGGREGATED",
    }
    assert all(c.key_set in sets for c in keyed)
    assert {t.id for t in CONFIG.types if "procurement" in t.sets} == {"procurement_contracts", "spending"}


def test_a_top_level_exclusion_can_spare_a_type():
    assert types_of("Crime Dashboard") == []
    assert types_of("Citywide Performance Dashboard") == ["performance"]
    assert types_of("Performance Metrics - FOIA Request Log") == []  # FOIA spares no type
