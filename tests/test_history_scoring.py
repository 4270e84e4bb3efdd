"""Criteria on history: the TAKESTOCK-FRESH fallback to the observed cadence, as config says."""

from __future__ import annotations

from wwc_pipeline.config import CriterionConfig, load_criteria
from wwc_pipeline.scoring import DatasetOutcome, PortalEvidence, score_criterion


def dataset(name: str, declares: bool, fresh: bool | None, observed: bool | None) -> DatasetOutcome:
    metrics = {"declares_frequency": declares, "fresh": fresh, "observed_fresh": observed}
    return DatasetOutcome(dataset_id=name, title=name.title(), metrics=metrics)


def takestock_fresh() -> CriterionConfig:
    [criterion] = [c for c in load_criteria().criteria if c.id == "TAKESTOCK-FRESH"]
    return criterion


def test_declared_cadence_where_declared_observed_elsewhere() -> None:
    portal = PortalEvidence(
        portal="https://p",
        harvested=True,
        datasets=[
            dataset("a", True, True, False),  # declared: fresh (its observed result is ignored)
            dataset("b", True, False, None),  # declared: stale
            dataset("c", False, None, True),  # observed: fresh
            dataset("d", False, None, True),  # observed: fresh
            dataset("e", False, None, False),  # observed: stale
            dataset("f", False, None, None),  # observed: unknown (n/a)
            dataset("g", True, None, True),  # declared but n/a (no last update): stays n/a
        ],
    )
    criterion = takestock_fresh().model_copy(update={"min_datasets": 1})
    row = score_criterion(criterion, [portal])
    assert row["counts"]["fresh"] == {
        "pass": 3,
        "fail": 2,
        "na": 2,
        "share": 0.6,
        "judged_by": {"declared cadence": 2, "observed cadence": 3},
    }
    assert row["score"] == 60.0
    assert "judged by declared cadence for 2 and observed cadence for 3" in row["evidence"]
    assert [w["dataset_id"] for w in row["worst_datasets"]] == ["b", "e"]
    assert row["check_ids"][:3] == ["fresh", "observed_fresh", "declares_frequency"]


def test_without_history_nothing_changes_for_undeclared_datasets() -> None:
    """`wwc evaluate` has no run history: undeclared datasets stay n/a, as before."""
    portal = PortalEvidence(
        portal="https://p",
        harvested=True,
        datasets=[DatasetOutcome("x", "X", {"declares_frequency": False, "fresh": None})] * 6,
    )
    row = score_criterion(takestock_fresh(), [portal])
    assert row["score"] is None and row["counts"]["fresh"]["na"] == 6
