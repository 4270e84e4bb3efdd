"""The re-run's faster paths say exactly what the plain ones say.

A 304 replay decodes its stored records' JSON itself, works out its previous columns only when a
check reads them, answers `fresh` without building its results when every answer is the stored
one, and a city's scores judge each dataset once per criterion. Each is held here to the plain
computation it replaces; tests/test_incremental_reuse.py holds the whole re-run to a full
recompute.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from wwc_pipeline.checks.freshness import fresh, fresh_answer

from wwc_pipeline.config import CriterionConfig, MetricFallback
from wwc_pipeline.frequency import freshness
from wwc_pipeline.incremental import ReplayColumns
from wwc_pipeline.model import Column, DatasetRecord
from wwc_pipeline.scoring import DatasetOutcome, PortalEvidence, judged, score_criterion
from wwc_pipeline.warehouse.replay_reads import json_value

AS_OF = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "b": [1.5, -0, 0.1, 1e5, "x\\u00e9"], "c": null, "d": true}',
        "123456789012345678901234567890",
        '{"row_count": -9223372036854775809}',
        '{"views": 18446744073709551616}',
        '{"id": "0000000000000000000000 in a string"}',
        "NaN",
        '{"x": Infinity}',
        '"\\ud800"',  # a lone surrogate
        '{"a": 1, "a": 2}',
        "1e400",
    ],
)
def test_stored_json_reads_as_the_json_module_reads_it(text):
    expected = json.loads(text)
    found = json_value(text)
    assert repr(found) == repr(expected)
    assert type(found) is type(expected)


def test_stored_json_already_decoded_passes_through():
    value = {"a": [1, 2]}
    assert json_value(value) is value
    assert json_value(None) is None


FREQUENCIES = [
    None,
    "",
    "daily",
    "Weekly",
    "monthly",
    "annually",
    "as needed",
    "irregular",
    "P3D",
    "nonsense",
]


def test_fresh_answer_is_the_fresh_results_answer():
    rng = random.Random(5)
    seen = set()
    for n in range(600):
        days = rng.choice([None, 0, 1, 2, 5, 9, 20, 40, 100, 400, 800, -3])
        modified = None if days is None else AS_OF - timedelta(days=days, hours=rng.randint(0, 23))
        record = DatasetRecord(
            "dcat", "p", f"d{n}", declared_frequency=rng.choice(FREQUENCIES), data_modified_at=modified
        )
        status = freshness(record, AS_OF).status
        seen.add(status)
        assert fresh_answer(status) == fresh(record, AS_OF).as_bool, (status, record)
    assert seen == {"fresh", "stale", "unknown", "no_cadence"}


CRITERION = CriterionConfig(
    id="F", component="Measure", current=["DM2"], title="t",
    metrics={"fresh": 2, "has_contact": 1, "has_license": 1},
    fallbacks={"fresh": MetricFallback(
        use="observed_fresh", unless="declares_frequency", label="observed", own_label="declared"
    )},
    met=80, partial=50, min_datasets=3,
)  # fmt: skip


def reference_counts(criterion: CriterionConfig, portals: list[PortalEvidence]) -> dict:
    """The counts as scoring computed them before: every metric judged in its own pass."""
    counts = {}
    for metric in criterion.metrics:
        outcomes = [judged(criterion, d, metric) for p in portals for d in p.datasets]
        passed = sum(1 for o, _ in outcomes if o is True)
        failed = sum(1 for o, _ in outcomes if o is False)
        share = round(passed / (passed + failed), 4) if passed + failed else None
        counts[metric] = {
            "pass": passed,
            "fail": failed,
            "na": len(outcomes) - passed - failed,
            "share": share,
        }
        if metric in criterion.fallbacks:
            fallback = criterion.fallbacks[metric]
            labels = [how for o, how in outcomes if o is not None]
            counts[metric]["judged_by"] = {
                label: labels.count(label) for label in (fallback.own_label, fallback.label)
            }
    counts["applicable_datasets"] = sum(
        1
        for p in portals
        for d in p.datasets
        if any(judged(criterion, d, m)[0] is not None for m in criterion.metrics)
    )
    return counts


def reference_worst(criterion: CriterionConfig, portals: list[PortalEvidence]) -> list[dict]:
    ranked = []
    for p in portals:
        for d in p.datasets:
            failed = [m for m in criterion.metrics if judged(criterion, d, m)[0] is False]
            if failed:
                ranked.append((-len(failed), len(ranked), p.portal, d, failed))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [
        {"portal": u, "dataset_id": d.dataset_id, "title": d.title, "failed": f}
        for _, _, u, d, f in ranked[:10]
    ]


def test_scores_judge_each_dataset_once_and_say_what_every_pass_said():
    rng = random.Random(7)
    names = ["fresh", "has_contact", "has_license", "declares_frequency", "observed_fresh"]
    portals = [
        PortalEvidence(
            f"p{i}",
            True,
            datasets=[
                DatasetOutcome(
                    f"d{i}-{n}",
                    f"T{n}",
                    {name: rng.choice([True, False, None]) for name in names if rng.random() < 0.9},
                )
                for n in range(rng.randint(0, 60))
            ],
        )
        for i in range(3)
    ]
    row = score_criterion(CRITERION, portals)
    assert row["counts"] == reference_counts(CRITERION, portals)
    assert row["worst_datasets"] == reference_worst(CRITERION, portals)
    for portal in portals:
        single = score_criterion(CRITERION, [portal])
        assert single["counts"] == reference_counts(CRITERION, [portal])
        assert row["portal_breakdown"][portal.portal] == {
            "score": single["score"],
            "status": single["status"],
        }


def test_replay_columns_are_each_ids_first_listing_worked_out_when_read():
    def record(dataset_id, columns, is_dataset=True):
        listed = None if columns is None else [Column(name) for name in columns]
        return DatasetRecord("socrata", "p", dataset_id, is_dataset=is_dataset, columns=listed)

    records = [
        record("a", ["x", "y"]),
        record("b", None),
        record("a", ["z"]),  # a repeated id: its first listing counts
        record("c", ["w"], is_dataset=False),
        record("d", []),
    ]
    columns = ReplayColumns(records)
    assert columns._columns is None  # nothing worked out before a read
    assert dict(columns) == {"a": ["x", "y"], "d": []}
    assert "a" in columns and "b" not in columns and len(columns) == 2 and columns["d"] == []
    assert not ReplayColumns([record("b", None)])


def test_records_rebuilt_with_shared_columns_equal_records_rebuilt_alone():
    from wwc_pipeline.warehouse.digests import record_data
    from wwc_pipeline.warehouse.replay_reads import record_from_stored

    columns = [Column("a", "A", "text", None), Column("b", None, "number", "b_1")]
    records = [
        DatasetRecord("socrata", "p", f"d{n}", columns=list(columns[: n % 3]), data_modified_at=AS_OF)
        for n in range(6)
    ]
    stored = [json.loads(json.dumps(record_data(record), default=str)) for record in records]
    made: dict = {}
    shared = [record_from_stored(data, ["flag"], made) for data in stored]
    alone = [record_from_stored(data, ["flag"]) for data in stored]
    assert shared == alone
    assert len(made) == 2 and shared[2].columns[0] is shared[5].columns[0]
