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
    {"case_number": "A2", "amount": "4", "ward": 7, "location": {"lat": 41.9, "lon": -87.7}},
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


def test_quality_tries_every_dataset_once_with_the_configured_row_count(quality):
    connector, portal, per_dataset = quality
    assert sorted(connector.calls) == [
        (d, 50) for d in ("a-clean", "b-dirty", "c-none", "d-raises", "e-empty")
    ]
    assert set(per_dataset) == {"a-clean", "b-dirty", "c-none", "d-raises", "e-empty"}
    assert portal.dataset_id is None and portal.value["sampled"] == 5 and portal.value["validated"] == 3


def test_clean_rows_pass_every_expectation(quality):
    clean = quality[2]["a-clean"]
    assert clean.status is Status.PASS and clean.value["failed"] == [] and clean.value["defects"] == []
    kinds = [(o["kind"], o["column"]) for o in clean.value["outcomes"]]
    # every column: nulls; the declared numbers and the location: type; the location: coordinates
    for column in ("Case Number", "Amount", "Ward", "Location"):
        assert ("nulls", column) in kinds
    for column in ("Amount", "Ward", "Location"):
        assert ("wrong_type", column) in kinds
    assert ("negative_amounts", "Amount") in kinds
    assert kinds.count(("coordinates", "Location")) == 3  # latitude, longitude, not 0,0
    assert ("duplicate_rows", None) in kinds


def test_dirty_rows_fail_null_duplicate_type_and_missing_column(quality):
    dirty = quality[2]["b-dirty"]
    assert dirty.status is Status.FAIL
    assert dirty.value["defects"] == ["duplicate_rows", "nulls", "wrong_type"]
    failed = {(o["kind"], o["column"]): o for o in dirty.value["outcomes"] if o["success"] is False}
    assert set(failed) == {
        ("nulls", "Notes"),
        ("nulls", "Gone"),  # declared, absent from every row: empty
        ("wrong_type", "Count"),
        ("duplicate_rows", None),
    }
    assert failed[("nulls", "Notes")]["observed"] == 1.0 and failed[("nulls", "Notes")]["allowed"] == 0.5
    assert failed[("wrong_type", "Count")]["observed"] == round(2 / 3, 4)
    assert failed[("wrong_type", "Count")]["examples"] == ["n/a"]
    assert failed[("duplicate_rows", None)]["observed"] == round(2 / 3, 4)  # both rows of the pair


def test_unsampled_datasets_are_na_with_their_reason(quality):
    per_dataset = quality[2]
    assert per_dataset["c-none"].status is Status.NA and "no rows" in per_dataset["c-none"].reason
    raised = per_dataset["d-raises"]
    assert raised.status is Status.NA and "ConnectionError: HTTP 503 from the portal" in raised.reason
    assert "trace" not in raised.reason
    empty = per_dataset["e-empty"]
    assert empty.status is Status.FAIL and empty.value["failed"] == ["the sample has no rows"]
    assert empty.value["defects"] == ["no_rows"]


def test_portal_score_is_the_share_of_validated_datasets_without_defects(quality):
    portal = quality[1]
    assert portal.value["score"] == round(100 * 1 / 3, 1) and portal.value["clean"] == 1
    assert portal.status is Status.FAIL
    assert sorted(d["dataset_id"] for d in portal.value["datasets"]) == ["a-clean", "b-dirty", "e-empty"]
    assert portal.value["defects"]["nulls"] == {"datasets": 1, "examples": ["b-dirty"]}
    assert "1 of 3 sampled datasets show no defect" in portal.reason


def test_a_dataset_without_rows_makes_room_for_the_next_one():
    records = [dataset(f"d{n}", [Column("x", datatype="number")]) for n in range(8)]
    rows = {f"d{n}": None if n % 2 else [{"x": n}] for n in range(8)}
    connector = FakeConnector(rows)
    results = content_quality(records, context(connector, client=object(), sample_datasets=2))
    portal = results[0]
    assert portal.value["validated"] == 2 and portal.value["sampled"] == len(connector.calls) <= 4
    again = FakeConnector(rows)
    content_quality(records, context(again, client=object(), sample_datasets=2))
    assert again.calls == connector.calls  # seeded by the portal: the same choice every run


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
    # a dataset result only for the dataset whose columns changed: the unchanged one's evidence
    # is its column list in both snapshots
    assert set(per_dataset) == {"changed"} and per_dataset["changed"].status is Status.FAIL
    assert per_dataset["changed"].value == {"added": ["c"], "removed": ["b"]}
    assert portal.status is Status.FAIL


def test_schema_drift_counts_a_list_reordered_or_repeated_as_unchanged():
    columns = [Column("a"), Column("b"), Column("a")]  # a repeated name counts once
    records = [dataset("in-order", columns), dataset("reordered", columns)]
    previous = {"in-order": ["a", "b", "a"], "reordered": ["b", "a"]}
    results = schema_drift(records, context(previous=previous))
    assert len(results) == 1  # no dataset changed: the portal's result alone
    assert results[0].status is Status.PASS and results[0].value["unchanged"] == 2
    assert results[0].value["changed"] == [] and results[0].value["score"] == 100.0


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


def test_a_platform_without_rows_is_na_and_says_why():
    records = [dataset(f"d{n}", [Column("x")]) for n in range(6)]
    connector = FakeConnector({f"d{n}": None for n in range(6)})
    portal = content_quality(records, context(connector, client=object(), sample_datasets=2))[0]
    assert portal.status is Status.NA and portal.value["score"] is None
    assert len(connector.calls) == 4  # twice the wanted sample, then it stops trying
    assert portal.reason == (
        "None of the 4 sampled datasets gave rows to validate. The platform gives no rows for this dataset."
    )
