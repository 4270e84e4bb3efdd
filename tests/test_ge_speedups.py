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
