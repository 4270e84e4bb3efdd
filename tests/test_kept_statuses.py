"""The compact metric statuses a snapshot keeps for its next replay (incremental.kept_statuses).

kept_statuses builds the compact form straight from the outcomes; it must be what
replay_reads.encoded_statuses makes of the same statuses (the form decoded_statuses reads back).
"""

from __future__ import annotations

import random

from wwc_pipeline.evaluate import METRIC_NAMES
from wwc_pipeline.incremental import kept_statuses
from wwc_pipeline.scoring import DatasetOutcome
from wwc_pipeline.warehouse.replay_reads import decoded_statuses, encoded_statuses

NAMES = {True: "pass", False: "fail", None: "na"}


def outcomes_at(count: int, seed: int) -> tuple[list[DatasetOutcome], list[int]]:
    chosen = random.Random(seed)
    positions = sorted(chosen.sample(range(count * 3), count))
    outcomes = [
        DatasetOutcome(f"d{p}", None, {name: chosen.choice([True, False, None]) for name in METRIC_NAMES})
        for p in positions
    ]
    return outcomes, positions


def test_the_compact_statuses_are_encoded_statuses_form_and_read_back():
    outcomes, positions = outcomes_at(200, seed=3)
    outcomes[5].metrics["content.schema_drift"] = True  # a portal check's answer: not kept
    statuses = {
        position: {name: NAMES[outcome.metrics[name]] for name in METRIC_NAMES}
        for position, outcome in zip(positions, outcomes, strict=True)
    }
    kept = kept_statuses(outcomes, positions)
    assert kept == encoded_statuses(METRIC_NAMES, statuses)
    assert decoded_statuses(kept, METRIC_NAMES, len(positions)) == statuses


def test_positions_out_of_order_are_kept_in_position_order():
    outcomes, positions = outcomes_at(50, seed=4)
    order = list(range(len(positions)))
    random.Random(5).shuffle(order)
    shuffled = kept_statuses([outcomes[i] for i in order], [positions[i] for i in order])
    assert shuffled == kept_statuses(outcomes, positions)
    assert shuffled["positions"] == positions


def test_an_outcome_missing_a_metric_keeps_nothing():
    outcomes, positions = outcomes_at(20, seed=6)
    del outcomes[7].metrics[METRIC_NAMES[-1]]
    assert kept_statuses(outcomes, positions) is None
