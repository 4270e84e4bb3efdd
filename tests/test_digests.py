"""The digests' one-encoding shortcuts (warehouse/digests.py) give exactly the digests and the
stored JSON of the plain formulas they stand in for."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest

from wwc_pipeline.warehouse.convert import jsonable
from wwc_pipeline.warehouse.digests import (
    JSONText,
    check_result_digest,
    check_result_digest_and_value,
    record_digest,
    record_digest_and_json,
    result_set_digest,
)

VALUES = [
    None,
    True,
    False,
    0,
    -17,
    2**70,
    0.1,
    1e300,
    -0.0,
    "",
    "plain",
    'quote " and \\ backslash',
    "é, 漢字, emoji 😀, control \x01 and \n",
    [],
    [1, "a", None, [2.5, {"z": 1, "a": 2}]],
    {"b": 1, "a": {"d": [], "c": "ü"}},
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
@pytest.mark.parametrize("version", [None, 7, 12345678901])
def test_a_result_digest_built_around_its_value_is_the_canonical_one(value, version):
    for check_id, status, reason in [("metadata.title", "pass", ""), ('odd "id" é', "na", "why\n😀")]:
        digest, stored = check_result_digest_and_value(3, version, check_id, status, value, reason)
        assert digest == check_result_digest(3, version, check_id, status, value, reason)
        assert type(stored) is JSONText and json.loads(stored) == value
        assert json.dumps(json.loads(stored)) == json.dumps(value)  # the keys in the check's order


def plain_record() -> dict:
    return {
        "title": "Crimes – 2001 to présent",
        "keywords": ["a", "b"],
        "row_count": 12,
        "distributions": [{"url": "https://x.example/a.csv", "format": "CSV", "size": 1.5}],
        "columns": None,
        "created_at": "2020-01-02T03:04:05+00:00",
    }


def test_a_plain_record_is_encoded_once_for_its_digest_and_its_stored_json():
    data = plain_record()
    digest, stored = record_digest_and_json(data)
    assert digest == record_digest(data)
    assert type(stored) is JSONText
    assert json.loads(stored) == jsonable(data)


@pytest.mark.parametrize(
    "odd", [math.nan, math.inf, datetime(2020, 1, 2, tzinfo=UTC), {1, 2}], ids=["nan", "inf", "time", "set"]
)
def test_a_record_that_is_not_plain_json_keeps_the_slow_way(odd):
    """NaN (PostgreSQL refuses it), or a value that `str()` would stand in for in the digest: the
    digest is the usual one and the record is stored as `jsonable` makes it."""
    data = plain_record()
    data["distributions"][0]["size"] = odd
    digest, stored = record_digest_and_json(data)
    assert digest == record_digest(data)
    assert stored is None


def test_results_sharing_one_value_object_get_the_digests_of_equal_separate_values():
    from wwc_pipeline.results import CheckResult, Status
    from wwc_pipeline.warehouse.entry_writes import Entry, WrittenEntries
    from wwc_pipeline.warehouse.result_writes import RESULT_COLUMNS, result_rows

    entries = WrittenEntries(1)
    for position, dataset_id in enumerate(["a", "b", "c"]):
        entries.by_position[position] = Entry(position, dataset_id, 1, position + 10, position + 20, None)
        entries.first_position[dataset_id] = position
    shared = {"added": [], "removed": ["x"]}
    results = [
        CheckResult("content.schema_drift", Status.PASS, shared, "Same 2 columns.", "a", 0),
        CheckResult("content.schema_drift", Status.PASS, shared, "Same 2 columns.", "b", 1),
        CheckResult("content.schema_drift", Status.FAIL, {"added": [], "removed": ["x"]}, "Changed.", "c", 2),
        CheckResult("content.schema_drift", Status.PASS, None, "Portal.", None, None),
    ]
    rows = result_rows(5, 3, results, entries)
    expected = [
        check_result_digest(3, version, "content.schema_drift", status, value, reason)
        for version, status, value, reason in [
            (20, "pass", shared, "Same 2 columns."),
            (21, "pass", shared, "Same 2 columns."),
            (22, "fail", shared, "Changed."),
            (None, "pass", None, "Portal."),
        ]
    ]
    assert rows.digests == expected == [row[RESULT_COLUMNS.index("digest")] for row in rows.values]
    values = [json.loads(row[RESULT_COLUMNS.index("value")]) for row in rows.values]
    assert values == [shared, shared, shared, None]
    assert rows.set_digest == result_set_digest(expected)
