"""Expectations derived from declared types and column names, one rule at a time (hand-built rows).

The platform tests (test_quality_planted.py) run the same rules over HTTP; these pin each rule's
edges: the type names of each platform, bounds, the future tolerance, thresholds from config.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from wwc_pipeline.checks.quality_rules import declared_type, load_quality_rules, words

from wwc_pipeline.config import ConfigError
from wwc_pipeline.model import Column

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def validate():
    from wwc_pipeline.checks.content import make_validator

    return make_validator(load_quality_rules(), AS_OF)


def failed(value: dict) -> set[tuple[str, str | None]]:
    return {(o["kind"], o["column"]) for o in value["outcomes"] if o["success"] is False}


def kinds_on(value: dict, column: str) -> set[str]:
    return {o["kind"] for o in value["outcomes"] if o["column"] == column}


@pytest.mark.parametrize(
    ("datatype", "good", "bad"),
    [
        ("Number", "12.5", "n/a"),  # Socrata Discovery
        ("money", "1000.00", "$1,000"),  # Socrata views
        ("numeric", 12.5, "12,5"),  # CKAN DataStore
        ("int4", 7, "seven"),
        ("double", -3.2e-4, "1.2.3"),  # OpenDataSoft
        ("Calendar date", "2024-02-29T00:00:00.000", "31/02/2024"),
        ("timestamp", "2024-02-29T10:00:00", "TBD"),
        ("datetime", "2024-02-29T10:00:00+00:00", "not recorded"),
        ("date", "2024-02-29", "yesterday"),
        ("Checkbox", True, "maybe"),
        ("bool", "false", "perhaps"),
        ("boolean", "true", "2"),
        ("Point", {"type": "Point", "coordinates": [-87.6, 41.8]}, {"type": "Point"}),
        ("location", {"latitude": "41.8", "longitude": "-87.6", "human_address": "{}"}, "somewhere"),
        ("geo_point_2d", {"lat": 41.8, "lon": -87.6}, {"lat": "north"}),
    ],
)
def test_type_conformance_by_each_platforms_declared_type(validate, datatype, good, bad):
    schema = [Column("Value", datatype=datatype)]
    clean = validate([{"value": good, "n": n} for n in range(10)], schema)
    assert clean["defects"] == [] and "wrong_type" in kinds_on(clean, "Value")
    dirty = validate([{"value": good if n else bad, "n": n} for n in range(10)], schema)
    assert failed(dirty) == {("wrong_type", "Value")}
    outcome = next(o for o in dirty["outcomes"] if o["kind"] == "wrong_type")
    assert outcome["observed"] == 0.1 and outcome["unexpected"] == 1 and len(outcome["examples"]) == 1


def test_text_and_unknown_types_get_no_type_expectation(validate):
    schema = [Column("Notes", datatype="text"), Column("Shape", datatype="MultiPolygon")]
    value = validate([{"notes": f"note {n}", "shape": "x"} for n in range(5)], schema)
    assert "wrong_type" not in kinds_on(value, "Notes") | kinds_on(value, "Shape")


def test_coordinates_bounds_and_null_island(validate):
    schema = [Column("Latitude", datatype="number"), Column("Longitude", datatype="number")]
    rows = [{"latitude": "41.8", "longitude": "-87.6"} | {"n": n} for n in range(10)]
    assert validate(rows, schema)["defects"] == []
    out_of_range = [dict(r, latitude="418.1") if r["n"] == 3 else r for r in rows]
    assert failed(validate(out_of_range, schema)) == {("coordinates", "Latitude")}
    island = [dict(r, latitude="0", longitude="0.0") if r["n"] == 3 else r for r in rows]
    assert failed(validate(island, schema)) == {("coordinates", "Latitude / Longitude")}
    geojson = [
        {"n": n, "where": {"type": "Point", "coordinates": [-87.6, 141.8 if n == 1 else 41.8]}}
        for n in range(4)
    ]
    value = validate(geojson, [Column("Where", datatype="point")])
    assert failed(value) == {("coordinates", "Where")}


def test_non_negative_by_column_name_only(validate):
    schema = [Column(name, datatype="number") for name in ("Amount Paid", "Number of Permits", "Balance")]
    rows = [
        {
            "amount_paid": "-5" if n == 0 else "5",
            "number_of_permits": -1 if n == 1 else 3,
            "balance": "-9",
            "n": n,
        }
        for n in range(6)
    ]
    value = validate(rows, schema)
    assert failed(value) == {("negative_amounts", "Amount Paid"), ("negative_amounts", "Number of Permits")}
    assert "negative_amounts" not in kinds_on(value, "Balance")
    account = validate([{"account": "-1"}], [Column("Account", datatype="number")])  # words: not "count"
    assert "negative_amounts" not in kinds_on(account, "Account")


def test_future_dates_beyond_the_tolerance_and_exempt_names(validate):
    soon, later = AS_OF + timedelta(days=20), AS_OF + timedelta(days=60)
    schema = [Column("Report Date", datatype="calendar_date"), Column("Contract End Date", datatype="date")]
    rows = [
        {"report_date": f"{soon:%Y-%m-%d}", "contract_end_date": f"{later:%Y-%m-%d}", "n": n}
        for n in range(4)
    ]
    value = validate(rows, schema)
    assert value["defects"] == [] and "future_dates" not in kinds_on(value, "Contract End Date")
    rows[2]["report_date"] = f"{later:%Y-%m-%dT%H:%M:%S.000}"
    assert failed(validate(rows, schema)) == {("future_dates", "Report Date")}


def test_case_and_whitespace_variants_in_low_cardinality_text(validate):
    statuses = ["Open", "Closed", "Open", "Pending", "Open", "Closed", "Open", "Closed"]
    rows = [{"status": s, "id": n} for n, s in enumerate(statuses)]
    assert validate(rows, [Column("Status", datatype="Text")])["defects"] == []
    rows[3]["status"], rows[5]["status"] = "open", " Open"
    value = validate(rows, [Column("Status", datatype="Text")])
    assert failed(value) == {("case_variants", "Status")}
    outcome = next(o for o in value["outcomes"] if o["kind"] == "case_variants")
    assert outcome["examples"] == ["'open' vs 'Open'", "' Open' vs 'Open'"]
    unique = [{"name": f"Name {n}", "other": f"NAME {n}"} for n in range(30)]  # not a category column
    assert "case_variants" not in {o["kind"] for o in validate(unique, None)["outcomes"]}


def test_null_share_threshold_and_duplicate_rows(validate):
    rows = [{"a": None if n < 4 else n, "b": n} for n in range(10)]
    assert validate(rows, None)["defects"] == []  # 40 % empty: under the 50 % default
    rows = [{"a": None if n < 6 else n, "b": n} for n in range(10)]
    assert failed(validate(rows, None)) == {("nulls", "a")}
    system = [{"a": n, ":@computed_region_x": None if n else "3"} for n in range(10)]  # Socrata's own
    assert validate(system, None)["defects"] == [] and not kinds_on(
        validate(system, None), ":@computed_region_x"
    )
    repeated = [{"a": 1, "b": 2}, {"a": 1, "b": 2}, {"a": 1, "b": 3}]
    assert failed(validate(repeated, None)) == {("duplicate_rows", None)}


def test_evidence_is_short_json_and_the_same_for_the_same_rows(validate):
    rows = [{"count": "x" * 500 + str(n), "when": "2099-01-01"} for n in range(40)]
    schema = [Column("Count", datatype="number"), Column("When", datatype="date")]
    first, second = validate(rows, schema), validate(list(rows), schema)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    for outcome in first["outcomes"]:
        assert len(outcome["examples"]) <= 3 and all(len(e) <= 60 for e in outcome["examples"])
    assert failed(first) == {("wrong_type", "Count"), ("future_dates", "When")}


def test_thresholds_come_from_the_quality_file_laid_over_the_defaults(tmp_path, monkeypatch):
    from wwc_pipeline.checks.content import make_validator

    rows = [{"a": None if n < 8 else n, "when": "2099-01-01", "n": n} for n in range(10)]
    schema = [Column("When", datatype="date")]
    strict = make_validator(load_quality_rules(), AS_OF)(rows, schema)
    assert failed(strict) == {("nulls", "a"), ("future_dates", "When")}
    file = tmp_path / "quality.yaml"
    file.write_text("thresholds:\n  max_null_share: 0.9\n  future_tolerance_days: 40000\n")
    monkeypatch.setenv("WWC_QUALITY_FILE", str(file))
    rules = load_quality_rules()
    assert rules.thresholds.max_null_share == 0.9 and rules.thresholds.min_type_conformance == 0.99
    assert rules.family("date") == "date" and rules.named("latitude", "lat")  # the rest: defaults
    lenient = make_validator(rules, AS_OF)(rows, schema)
    assert lenient["defects"] == [] and "future_dates" in kinds_on(lenient, "When")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("thresholds: [1, 2", "not valid YAML"),
        ("thresholds:\n  max_null_share: 2\n", "thresholds.max_null_share"),
        ("types:\n  numbr: [number]\n", "unknown family 'numbr'"),
        ("colour: blue\n", "colour"),
    ],
)
def test_a_bad_quality_file_is_a_one_line_error(tmp_path, text, message):
    file = tmp_path / "quality.yaml"
    file.write_text(text)
    with pytest.raises(ConfigError, match=message) as raised:
        load_quality_rules(file)
    assert "\n" not in str(raised.value)


def test_declared_types_and_names_are_normalised():
    assert declared_type("Calendar date") == declared_type("calendar_date") == "calendar_date"
    assert words("Amount_Paid (USD)") == "amount paid usd"
    rules = load_quality_rules()
    assert rules.family("Calendar date") == "date" and rules.family("geo_point_2d") == "point"
    assert rules.family("MultiLine") is None and rules.family(None) is None
    assert rules.named("non_negative", "Total Costs") and not rules.named("non_negative", "Account")
    assert rules.named("latitude", "LAT") and not rules.named("latitude", "Latency")
