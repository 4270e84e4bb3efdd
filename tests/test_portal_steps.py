"""The per-portal steps without Prefect: a city's close from what its portals left, and dataset
metrics computed in worker processes equal to the ones computed in place."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from benchmarks.evaluation import normalize, served_documents
from wwc_pipeline.config import load_criteria
from wwc_pipeline.evaluate import evaluate_records, evaluation_json
from wwc_pipeline.evaluation_pool import EvaluationPool
from wwc_pipeline.portal_steps import PortalDone, close_city
from wwc_pipeline.scoring import DatasetOutcome, PortalEvidence

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)


class Ledger:
    """Stands in for the warehouse: what close_city records."""

    def __init__(self) -> None:
        self.scores: list = []
        self.finished: tuple | None = None

    def close_run(self, run_id, city_id, scores, status, error=None) -> None:
        self.scores = scores
        self.finished = (run_id, status, error)


def harvested(url: str, passing: int) -> PortalDone:
    datasets = [DatasetOutcome(f"d{i}", f"D{i}", {"has_description": i < passing}) for i in range(10)]
    return PortalDone(url, PortalEvidence(portal=url, harvested=True, datasets=datasets), datasets=10)


def failed(url: str) -> PortalDone:
    return PortalDone(url, PortalEvidence(portal=url, harvested=False, error="down"), error="HTTP 503")


@pytest.mark.parametrize(
    ("done", "status"),
    [
        ([harvested("a", 7), harvested("b", 3)], "succeeded"),
        ([harvested("a", 7), failed("b")], "partial"),
        ([failed("a"), failed("b")], "failed"),
    ],
)
def test_a_city_closes_from_what_its_portals_left(done, status):
    ledger = Ledger()
    result = close_city("springfield", 7, done, load_criteria(), ledger)
    assert result.status == status and ledger.finished[:2] == (7, status)
    assert result.datasets == 10 * sum(not portal.failed for portal in done)
    assert set(result.failed_portals) == {portal.url for portal in done if portal.failed}
    assert ledger.scores == result.scores and result.scores
    if status == "failed":
        assert "HTTP 503" in result.error


def test_metrics_in_worker_processes_equal_metrics_in_place():
    documents, portal, _ = served_documents(300, 2)
    records = normalize(documents, portal)
    here = evaluate_records(records, AS_OF, "socrata", portal)
    with EvaluationPool(workers=2) as pool:
        there = pool.metrics(records, AS_OF, "socrata", portal)
    assert evaluation_json(there) == evaluation_json(here)
    assert [d.results for d in there.dataset_evaluations] == [d.results for d in here.dataset_evaluations]
    assert [d.record for d in there.dataset_evaluations] == [d.record for d in here.dataset_evaluations]
