"""Scores from evidence: shares, thresholds, insufficient evidence, breakdowns, worst datasets."""

from __future__ import annotations

from wwc_pipeline.config import CriteriaConfig, CriterionConfig, load_criteria
from wwc_pipeline.results import CheckResult, Status
from wwc_pipeline.scoring import (
    INSUFFICIENT,
    MET,
    NOT_ASSESSABLE,
    NOT_MET,
    PARTIAL,
    DatasetOutcome,
    PortalEvidence,
    score_city,
    score_criterion,
)

METADATA = CriterionConfig(
    id="M", component="Measure", current=["DM2"], title="t",
    metrics={"has_description": 1, "has_contact": 1}, met=80, partial=50, min_datasets=2,
)  # fmt: skip


def outcome(dataset_id: str, description: bool | None, contact: bool | None) -> DatasetOutcome:
    return DatasetOutcome(
        dataset_id, dataset_id.upper(), {"has_description": description, "has_contact": contact}
    )


def test_metrics_score_is_weighted_mean_of_shares_over_all_portals():
    first = PortalEvidence("a", True, datasets=[outcome("x", True, False), outcome("y", True, True)])
    second = PortalEvidence("b", True, datasets=[outcome("z", False, None)])
    row = score_criterion(METADATA, [first, second])
    # has_description 2/3, has_contact 1/2 -> (66.67 + 50) / 2
    assert row["score"] == 58.3
    assert row["status"] == PARTIAL
    assert row["counts"]["has_contact"] == {"pass": 1, "fail": 1, "na": 1, "share": 0.5}
    assert set(row["portal_breakdown"]) == {"a", "b"}
    assert row["portal_breakdown"]["a"]["score"] == 75.0
    assert row["worst_datasets"][0]["dataset_id"] in {"x", "z"}
    assert row["check_ids"] == ["has_description", "has_contact"]


def test_too_few_applicable_datasets_is_insufficient_evidence():
    row = score_criterion(METADATA, [PortalEvidence("a", True, datasets=[outcome("x", True, True)])])
    assert row["score"] == 100.0
    assert row["status"] == INSUFFICIENT
    assert "only 1 applicable" in row["evidence"]


def test_unharvested_city_is_insufficient_evidence_with_the_reason():
    row = score_criterion(METADATA, [PortalEvidence("a", False, error="HTTP 503")])
    assert row["status"] == INSUFFICIENT
    assert "HTTP 503" in row["evidence"]
    assert row["score"] is None


def test_portal_checks_average_scores_and_skip_na():
    criterion = CriterionConfig(
        id="P", component="Take Stock", current=["DM4"], title="t", kind="portal",
        portal_checks=["content.quality", "content.schema_drift"], met=90, partial=70,
    )  # fmt: skip
    results = {
        "content.quality": CheckResult("content.quality", Status.PASS, {"score": 80.0}, "ok"),
        "content.schema_drift": CheckResult(
            "content.schema_drift", Status.NA, {"score": None}, "no previous run"
        ),
    }
    row = score_criterion(criterion, [PortalEvidence("a", True, portal_results=results)])
    assert row["score"] == 80.0
    assert row["status"] == PARTIAL
    assert "no previous run" in row["evidence"]


def test_thresholds_and_not_assessable():
    criteria = load_criteria()
    by_id = {c.id: c for c in criteria.criteria}
    perfect = PortalEvidence("a", True, datasets=[outcome(str(i), True, True) for i in range(10)])
    assert score_criterion(by_id["MEASURE-OD-METADATA"], [perfect])["status"] == MET
    rows = {row["criterion_id"]: row for row in score_city(criteria, [perfect])}
    assert rows["ACT-DECISIONS"]["status"] == NOT_ASSESSABLE
    none_pass = PortalEvidence("a", True, datasets=[outcome(str(i), False, False) for i in range(10)])
    assert score_criterion(METADATA, [none_pass])["status"] == NOT_MET


def test_criteria_file_names_only_known_metrics_and_checks():
    import wwc_pipeline.checks  # noqa: F401 - registers the checks

    from wwc_pipeline import registry
    from wwc_pipeline.evaluate import METRIC_NAMES
    from wwc_pipeline.pipeline import HARVEST_CHECK

    criteria: CriteriaConfig = load_criteria()
    known_portal = set(registry.PORTAL_CHECKS) | {HARVEST_CHECK}
    for criterion in criteria.criteria:
        assert set(criterion.metrics) <= set(METRIC_NAMES), criterion.id
        assert set(criterion.portal_checks) <= known_portal, criterion.id


def test_worst_datasets_are_the_ten_with_most_failures_first_listed_first_on_ties():
    # 14 datasets over two portals: w0..w6 fail one metric, w7..w13 fail both (n/a fails none)
    answers = [(False, True)] * 7 + [(False, False)] * 7
    datasets = [outcome(f"w{i}", *pair) for i, pair in enumerate(answers)]
    datasets.insert(3, outcome("clean", True, None))
    first, second = (
        PortalEvidence("a", True, datasets=datasets[:8]),
        PortalEvidence("b", True, datasets=datasets[8:]),
    )
    row = score_criterion(METADATA, [first, second])
    listed = [(worst["portal"], worst["dataset_id"], len(worst["failed"])) for worst in row["worst_datasets"]]
    both = [("b", f"w{i}", 2) for i in range(7, 14)]
    one = [("a", f"w{i}", 1) for i in range(3)]
    assert listed == both + one
