"""content.quality (Great Expectations on sampled rows, run once for the module) and content.schema_drift."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest
from wwc_pipeline.checks.content import column_key, content_quality, schema_drift

from tests.conftest import REPO
from wwc_pipeline.config import PortalConfig
from wwc_pipeline.model import Column, DatasetRecord
from wwc_pipeline.results import PortalContext, Status

AS_OF = datetime(2025, 1, 1, tzinfo=UTC)
CLEAN_ROWS = [
    {"case_number": "A1", "amount": "12.5", "ward": 3, "location": {"lat": 41.8, "lon": -87.6}},
    {"case_number": "A2", "amount": "-4", "ward": 7, "location": {"lat": 41.9, "lon": -87.7}},
    {"case_number": "A3", "amount": "1e3", "ward": None, "location": {"lat": 41.9, "lon": -87.7}},
]
DIRTY_ROWS = [
    {"id": "1", "notes": None, "count": "n/a"},
    {"id": "1", "notes": "  ", "count": "n/a"},
    {"id": "2", "notes": None, "count": "5"},
]


class FakeConnector:
    """Rows per dataset id: a list, None (cannot sample) or an exception to raise."""

    def __init__(self, rows: dict):
        self.rows = rows
        self.calls: list[tuple[str, int]] = []

    def sample_rows(self, portal, client, record, limit):
        self.calls.append((record.dataset_id, limit))
        answer = self.rows[record.dataset_id]
        if isinstance(answer, Exception):
            raise answer
        return answer


def dataset(dataset_id: str, columns: list[Column] | None = None, **kwargs) -> DatasetRecord:
    return DatasetRecord(
        "socrata", "data.example.gov", dataset_id, title=f"Title {dataset_id}", columns=columns, **kwargs
    )


def context(connector=None, client=None, sample_datasets: int = 5, previous=None) -> PortalContext:
    config = PortalConfig(
        platform="socrata", url="https://data.example.gov", sample_datasets=sample_datasets, sample_rows=50
    )
    return PortalContext(
        "socrata",
        "data.example.gov",
        AS_OF,
        client=client,
        connector=connector,
        portal_config=config,
        previous_columns=previous,
    )


@pytest.fixture(scope="module")
def quality():
    """One run of the check over a clean, a dirty, an empty, an unsampleable and a failing dataset."""
    records = [
        dataset(
            "b-dirty", [Column("ID"), Column("Notes"), Column("Count", datatype="number"), Column("Gone")]
        ),
        dataset(
            "a-clean",
            [
                Column("Case Number", datatype="text"),
                Column("Amount", datatype="number"),
                Column("Ward", datatype="number"),
                Column("Location", datatype="location"),
            ],
        ),
        dataset("c-none"),
        dataset("d-raises"),
        dataset("e-empty", [Column("x")]),
        dataset("f-not-chosen"),
        DatasetRecord("socrata", "data.example.gov", "0-story", is_dataset=False),
    ]
    connector = FakeConnector(
        {
            "a-clean": CLEAN_ROWS,
            "b-dirty": DIRTY_ROWS,
            "c-none": None,
            "d-raises": ConnectionError("HTTP 503 from the portal\ntrace"),
            "e-empty": [],
        }
    )
    results = content_quality(records, context(connector, client=object()))
    return connector, results[0], {r.dataset_id: r for r in results[1:]}


def test_quality_samples_the_first_datasets_by_id(quality):
    connector, portal, per_dataset = quality
    assert connector.calls == [
        ("a-clean", 50),
        ("b-dirty", 50),
        ("c-none", 50),
        ("d-raises", 50),
        ("e-empty", 50),
    ]
    assert set(per_dataset) == {"a-clean", "b-dirty", "c-none", "d-raises", "e-empty"}
    assert portal.dataset_id is None and portal.value["sampled"] == 5 and portal.value["validated"] == 3


def test_clean_rows_pass_every_expectation(quality):
    clean = quality[2]["a-clean"]
    assert clean.status is Status.PASS and clean.value["failed"] == []
    # row count + 4 catalog columns exist + 4 not-all-null + duplicates + 2 numeric columns
    assert clean.value["expectations"] == 12 and clean.value["share"] == 1.0


def test_dirty_rows_fail_null_duplicate_numeric_and_missing_column(quality):
    dirty = quality[2]["b-dirty"]
    assert dirty.status is Status.FAIL
    # row count + 4 catalog columns exist + 3 not-all-null + duplicates + 1 numeric column = 10; 4 fail
    assert dirty.value["expectations"] == 10 and dirty.value["passed"] == 6 and dirty.value["share"] == 0.6
    assert sorted(dirty.value["failed"]) == sorted(
        [
            "catalog column 'Gone' is missing from the rows",
            "column 'Notes' is entirely empty",
            "some rows are exact duplicates",
            "numeric column 'Count' holds non-numbers",
        ]
    )


def test_unsampled_datasets_are_na_with_their_reason(quality):
    per_dataset = quality[2]
    assert per_dataset["c-none"].status is Status.NA and "no rows" in per_dataset["c-none"].reason
    raised = per_dataset["d-raises"]
    assert raised.status is Status.NA and "ConnectionError: HTTP 503 from the portal" in raised.reason
    assert "trace" not in raised.reason
    empty = per_dataset["e-empty"]
    assert empty.status is Status.FAIL and empty.value["failed"] == ["the sample has no rows"]


def test_portal_score_is_the_mean_share(quality):
    portal = quality[1]
    assert portal.value["score"] == round(100 * (1.0 + 0.6 + 0.0) / 3, 1)
    assert portal.status is Status.FAIL
    assert [d["dataset_id"] for d in portal.value["datasets"]] == ["a-clean", "b-dirty", "e-empty"]


def test_quality_offline_is_na_and_never_imports_great_expectations():
    code = (
        "import sys; from wwc_pipeline.checks.content import content_quality; "
        "from tests.test_checks_content import "
        "context, dataset; r = content_quality([dataset('a')], context()); "
        "assert r[0].status.value == 'na' and r[0].value['score'] is None, r; "
        "assert 'great_expectations' not in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr


def test_column_key_matches_display_and_field_names():
    assert column_key("Case Number") == column_key("case_number") == "casenumber"
    assert column_key("ID #") == "id"


def test_schema_drift_compares_with_the_previous_run():
    records = [
        dataset("same", [Column("a"), Column("b")]),
        dataset("changed", [Column("a"), Column("c")]),
        dataset("new", [Column("x")]),
        dataset("no-columns"),
    ]
    previous = {"same": ["b", "a"], "changed": ["a", "b"], "no-columns": ["a"], "gone": ["z"]}
    results = schema_drift(records, context(previous=previous))
    portal, per_dataset = results[0], {r.dataset_id: r for r in results[1:]}
    assert portal.value["compared"] == 2 and portal.value["unchanged"] == 1 and portal.value["score"] == 50.0
    assert portal.value["new_datasets"] == 1
    assert portal.value["changed"] == [
        {"dataset_id": "changed", "title": "Title changed", "added": ["c"], "removed": ["b"]}
    ]
    assert per_dataset["same"].status is Status.PASS and per_dataset["changed"].status is Status.FAIL
    assert portal.status is Status.FAIL


@pytest.mark.parametrize(
    ("records", "previous"),
    [
        ([dataset("a", [Column("a")])], None),  # first run
        ([dataset("a", [Column("a")])], {}),
        ([dataset("a")], {"a": ["a"]}),  # the platform gives no column lists
        ([dataset("b", [Column("a")])], {"a": ["a"]}),  # nothing seen before
    ],
)
def test_schema_drift_not_assessable(records, previous):
    results = schema_drift(records, context(previous=previous))
    assert len(results) == 1 and results[0].status is Status.NA and results[0].value["score"] is None
    if all(r.columns is None for r in records):
        assert "no column lists" in results[0].reason
