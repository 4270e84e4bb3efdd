"""`observed_fresh` on a replay: its set is kept while every dataset's observed judgment is the
same, and the answers the evidence reads then are the results' statuses (portal_reuse).

tests/test_incremental_reuse.py runs the whole of it against a full recompute; here the parts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from wwc_pipeline.checks.history import observed_answers, observed_fresh, observed_inputs

from wwc_pipeline.history.cadence import ObservedFreshness
from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.portal_reuse import INPUTS_KEY, kept_results, kept_sets

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def record(dataset_id: str, modified: datetime | None, is_dataset: bool = True) -> DatasetRecord:
    return DatasetRecord(
        "dcat", "hub", dataset_id, title=dataset_id, data_modified_at=modified, is_dataset=is_dataset
    )


RECORDS = [
    record("fresh", T0),
    record("stale", T0 - timedelta(days=60)),
    record("too-few", T0),
    record("no-update", None),
    record("a-map", T0, is_dataset=False),
    record("fresh", T0),  # a repeated id shares its history
]


def judgments(stale_status: str = "stale", age: float = 3.0) -> dict[str, ObservedFreshness]:
    return {
        "fresh": ObservedFreshness("fresh", 7.0, age, 4),
        "stale": ObservedFreshness(stale_status, 7.0, 60.0, 4),
        "too-few": ObservedFreshness("unknown", None, age, 2),
        "no-update": ObservedFreshness("unknown", None, None, 0),
        "a-map": ObservedFreshness("fresh", 7.0, age, 4),
    }


def context(observed: dict[str, ObservedFreshness] | None) -> SimpleNamespace:
    return SimpleNamespace(history=None if observed is None else SimpleNamespace(observed=observed))


def test_answers_are_the_statuses_of_the_results() -> None:
    for stale_status in ("stale", "fresh"):
        ctx = context(judgments(stale_status))
        results = observed_fresh(RECORDS, ctx)
        answers = observed_answers(RECORDS, ctx)
        assert [(r.check_id, r.dataset_id, r.position, r.status) for r in answers] == [
            (r.check_id, r.dataset_id, r.position, r.status) for r in results
        ]
        assert [r.as_bool for r in answers] == [True, stale_status == "fresh", None, None, True]
        assert all(r.value is None and r.reason == "" for r in answers)  # nothing of them is written
    assert observed_answers(RECORDS, context(None)) == []


def test_inputs_follow_the_judgments_not_the_age() -> None:
    same = observed_inputs(SimpleNamespace(observed=judgments()))
    assert same == observed_inputs(SimpleNamespace(observed=judgments(age=5.0)))  # older, same results
    assert same != observed_inputs(SimpleNamespace(observed=judgments("fresh")))  # a status moved
    more = {**judgments(), "too-few": ObservedFreshness("fresh", 3.0, 1.0, 3)}
    assert same != observed_inputs(SimpleNamespace(observed=more))  # a cadence appeared
    assert observed_inputs(None) is None


def kept(before: str | None, now: str | None) -> dict[str, int]:
    inputs = {"config": "c", "previous_entry_list": 5, "observed": before}
    snapshot = SimpleNamespace(reused_from=1, replay={INPUTS_KEY: inputs}, records=RECORDS)
    stored = SimpleNamespace(other_sets={"observed_fresh": 9})
    return kept_sets(snapshot, stored, {**inputs, "observed": now}, {}, T0)


def test_the_set_is_kept_only_while_the_judgments_are_the_same() -> None:
    assert kept("x", "x") == {"observed_fresh": 9}
    assert kept("x", "y") == {}
    assert kept(None, None) == {}  # no history: nothing to vouch for the results
    assert kept("x", None) == {}


def test_a_kept_set_brings_the_answers_the_evidence_reads() -> None:
    ctx = context(judgments())
    stored = SimpleNamespace(other_results=[])  # a set of per-dataset results: none read back
    found = kept_results(stored, {"observed_fresh": 9}, RECORDS, ctx)
    assert [r.as_bool for r in found["observed_fresh"]] == [r.as_bool for r in observed_fresh(RECORDS, ctx)]
    assert kept_results(stored, {"observed_fresh": 9}) == {}  # without records: run it again
