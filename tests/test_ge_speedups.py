"""The Great Expectations patch (checks/ge_speedups.py) changes how fast, never what.

Each patched method must give what GE's own gives, for every kind of expectation the quality
check plans; the quality tests (test_quality_*.py) check the whole validation's outcomes.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

gx = pytest.importorskip("great_expectations")
gxe = pytest.importorskip("great_expectations.expectations")

from wwc_pipeline.checks import ge_speedups  # noqa: E402

EXPECTATIONS = [
    gxe.ExpectTableRowCountToBeBetween(min_value=1),
    gxe.ExpectColumnProportionOfNonNullValuesToBeBetween(column="a", min_value=0.5),
    gxe.ExpectColumnValuesToMatchRegex(column="a#text", regex=r"^\d+$", mostly=0.99),
    gxe.ExpectColumnValuesToBeDateutilParseable(column="d#text", mostly=0.99),
    gxe.ExpectColumnValuesToBeBetween(column="d#date", max_value=datetime(2026, 1, 1, tzinfo=UTC)),
    gxe.ExpectColumnValuesToBeBetween(column="n#number", min_value=0, mostly=1.0),
    gxe.ExpectColumnValuesToBeUnique(column="#row", mostly=1.0),
    gxe.ExpectColumnValuesToBeNull(column="s#variant", mostly=1.0, meta={"plan": 3}),
    gxe.ExpectColumnValuesToNotBeInSet(column="#pair0", value_set=["0, 0"], mostly=1.0),
]


def test_the_patch_applies_to_the_installed_version():
    assert ge_speedups.install() == gx.__version__.startswith(ge_speedups.CHECKED_VERSIONS)


@pytest.mark.parametrize("expectation", EXPECTATIONS, ids=lambda e: type(e).__name__)
def test_patched_methods_give_what_great_expectations_gives(expectation):
    if not ge_speedups.install():
        pytest.skip("GE version not patched")
    originals = ge_speedups.originals
    assert expectation._get_domain_kwargs() == originals["_get_domain_kwargs"](expectation)
    assert expectation._get_success_kwargs() == originals["_get_success_kwargs"](expectation)
    for runtime in (None, {}, {"result_format": {"result_format": "BASIC", "partial_unexpected_count": 12}}):
        ours = expectation._get_runtime_kwargs(runtime)
        assert ours == originals["_get_runtime_kwargs"](expectation, runtime)
    for key in ("column", "mostly", "min_value", "result_format", "catch_exceptions"):
        ours = expectation._get_success_kwarg(key, "x")
        assert ours == originals["_get_success_kwarg"](expectation, key, "x")
    name = type(expectation).__name__
    from great_expectations.expectations import expectation as module

    assert module.camel_to_snake(name) == originals["camel_to_snake"](name)
    assert expectation.configuration.type == originals["camel_to_snake"](name)


def _parseable(parse, value) -> bool:
    try:
        parse(value)
    except (ValueError, OverflowError):
        return False
    return True


def test_the_iso_fast_path_judges_every_date_as_dateutil_does():
    from dateutil.parser import parse as dateutil_parse
    from wwc_pipeline.checks.ge_fast_paths import fast_dateutil_parse

    fast = fast_dateutil_parse(dateutil_parse)
    values = [
        "2024-02-29",
        "2023-02-29",
        "2024-13-01",
        "2024-00-10",
        "0000-01-01",
        "0001-01-01",
        "2024-01-01T10:00",
        "2024-01-01 10:00:59",
        "2024-01-01T24:00",
        "2024-01-01T23:59:60",
        "2024-01-01T10:00:00.123",
        "2024-01-01T10:00:00.1234567",
        "2024-01-01T10:00:00Z",
        "2024-01-01T10:00:00+05:30",
        "2024-01-01T10:00:00+24:00",
        "2024-01-01T10:00:00-23:59",
        "2024-W01-1",
        "20240101",
        "01/02/2024",
        "Jan 5 2024",
        "not a date",
        "",
        " 2024-01-01",
        "2024-01-01 ",
        "２０２４-01-01",
        "9999-12-31T23:59:59.999999",
    ]
    assert [_parseable(fast, v) for v in values] == [_parseable(dateutil_parse, v) for v in values]


def test_the_serializing_fast_path_gives_what_great_expectations_gives():
    import decimal
    from enum import Enum

    import numpy as np
    from great_expectations.util import convert_to_json_serializable as shipped
    from wwc_pipeline.checks.ge_fast_paths import fast_json_serializable

    fast = fast_json_serializable(getattr(shipped, "__wrapped__", shipped))

    class Colour(Enum):
        RED = "red"

    values = [
        None,
        "a",
        0,
        -3,
        True,
        False,
        1.5,
        float("nan"),
        float("inf"),
        [1, None, "x"],
        (1, 2),
        {1: "a", "b": [None, {"c": 2.0}]},
        {"n": np.int64(3), "f": np.float32(0.5)},
        datetime(2024, 1, 1, tzinfo=UTC),
        decimal.Decimal("1.25"),
        Colour.RED,
        np.array([1, 2]),
    ]
    for value in values:
        assert fast(value) == shipped(value) or (value != value)  # NaN -> None both ways
    assert fast(float("nan")) is None and shipped(float("nan")) is None


def test_remembered_ids_are_the_ids_great_expectations_computes():
    from great_expectations.core.id_dict import IDDict
    from wwc_pipeline.checks.ge_fast_paths import remembered_id

    shipped = getattr(IDDict.to_id, "__wrapped__", IDDict.to_id)
    fast = remembered_id(shipped)
    dicts = [
        IDDict(),
        IDDict(column="a"),
        IDDict(column="a", batch_id="b", row_condition=None, condition_parser=None),
        IDDict(column="a", batch_id="b", row_condition=None, condition_parser=None),  # remembered
        IDDict(column="a", mostly=1, value_set=[1, 2]),
        IDDict(column="a", mostly=1.0, value_set=[1, 2]),
        IDDict(column="a", mostly=True, value_set=[1, 2]),
        IDDict(column="a", max_value=datetime(2026, 1, 1, tzinfo=UTC), strict_max=False),
    ]
    for one in dicts:
        assert fast(one) == shipped(one)
        assert fast(one, id_ignore_keys={"batch_id"}) == shipped(one, id_ignore_keys={"batch_id"})
        assert fast(one, id_keys=["column"]) == shipped(one, id_keys=["column"]) if "column" in one else True


def test_a_whole_validation_finds_the_same_with_and_without_the_patch():
    """Every outcome (observed share, examples, defects) of 12 generated samples, some dirty,
    patched and as GE ships."""
    from wwc_pipeline.checks.content import make_validator
    from wwc_pipeline.checks.quality_rules import load_quality_rules

    from benchmarks.quality import AS_OF, samples

    if not ge_speedups.install():
        pytest.skip("GE version not patched")
    rules = load_quality_rules()
    sampled = samples(12, 100, seed=7)
    patched = make_validator(rules, AS_OF)
    ours = [patched(rows, schema) for rows, schema, _ in sampled]
    try:
        as_shipped = make_validator(rules, AS_OF)
        ge_speedups.uninstall()
        theirs = [as_shipped(rows, schema) for rows, schema, _ in sampled]
    finally:
        ge_speedups.install()
    assert any(found["defects"] for found in ours)
    assert ours == theirs
