"""Dataset metrics judged page by page while the harvest waits (`metrics_during_harvest`) are
exactly what `evaluate_records` gives for the harvested records; anything they do not cover
(another as-of time, other records, a harvest started again) is evaluated anew."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from tests.test_pending_outcome import one_portal_city
from wwc_pipeline import pipeline, portal_steps
from wwc_pipeline.config import PortalConfig
from wwc_pipeline.evaluate import evaluate_records
from wwc_pipeline.http import HttpClient
from wwc_pipeline.metrics_ahead import MetricsAhead
from wwc_pipeline.simulator.national import NationalSimulator
from wwc_pipeline.simulator.national_plan import single_portal_plan

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)
DATASETS = 2_300  # three pages of the Discovery API's 1,000, with the plan's other assets


@pytest.fixture(scope="module")
def portal():
    with NationalSimulator(single_portal_plan("socrata", DATASETS, seed=6, as_of=AS_OF), latency_s=0) as sim:
        [spec] = sim.portals
        yield PortalConfig(platform=spec.platform, url=spec.url)


def refused(*_args):
    raise AssertionError("evaluated again: the metrics judged during the harvest were not used")


def test_metrics_judged_as_the_pages_come_are_the_records_metrics(portal):
    pages = []
    ahead = MetricsAhead(AS_OF, fallback=refused)

    def judged(records, first_position):
        pages.append((first_position, len(records)))
        ahead.add(records, first_position)

    snapshot = pipeline.harvest_portal(portal, HttpClient(per_host=2), on_records=judged)
    records = snapshot.records
    assert pages == [(0, 1000), (1000, 1000), (2000, len(records) - 2000)]
    early = ahead.metrics(records, AS_OF, "socrata", portal.url)
    assert early == evaluate_records(records, AS_OF, "socrata", portal.url)
    assert early.datasets == DATASETS < early.assets == len(records)  # some assets are not datasets


def test_what_the_metrics_judged_ahead_do_not_cover_is_evaluated_anew(portal):
    records = pipeline.harvest_portal(portal, HttpClient(per_host=2)).records
    fallback = []

    def noted(*args):
        fallback.append(args[1])
        return evaluate_records(*args)

    def ahead_of(pages):
        ahead = MetricsAhead(AS_OF, fallback=noted)
        for first, last in pages:
            ahead.add(records[first:last], first)
        return ahead

    whole = [(0, 700), (700, len(records))]
    expected = evaluate_records(records, AS_OF, "socrata", portal.url)
    later = AS_OF + timedelta(days=400)  # freshness changes with the as-of time
    assert ahead_of(whole).metrics(records, AS_OF, "socrata", portal.url) == expected
    assert fallback == []
    assert ahead_of(whole).metrics(records, later, "socrata", portal.url) != expected
    assert fallback == [later]
    copied = [*records[:-1], dataclasses.replace(records[-1])]  # an equal record, not the one judged
    assert ahead_of(whole).metrics(copied, AS_OF, "socrata", portal.url) == expected
    assert ahead_of(whole[:1]).metrics(records, AS_OF, "socrata", portal.url) == expected  # a page short
    assert fallback == [later, AS_OF, AS_OF]
    again = [(0, 700), (0, 700), (700, len(records))]  # a harvest that started again: its pages count
    assert ahead_of(again).metrics(records, AS_OF, "socrata", portal.url) == expected
    assert len(fallback) == 3


@pytest.mark.parametrize("setting", [None, False])
def test_a_scan_of_a_one_portal_city_evaluates_with_the_metrics_of_its_harvest(
    prefect_harness, portal, tmp_path, monkeypatch, setting
):
    from wwc_pipeline.flows import handoff
    from wwc_pipeline.flows.nightly import scan_cities

    ahead = {} if setting is None else {"metrics_during_harvest": setting}
    cities = one_portal_city(tmp_path, portal, ahead, monkeypatch)
    covered = []
    original_covers, original_evaluate = MetricsAhead._covers, portal_steps.evaluate

    def noted_covers(self, records, as_of):
        covered.append(original_covers(self, records, as_of))
        return covered[-1]

    def noted_evaluate(job, snapshot, client, warehouse, metrics, *args, **kwargs):
        covered.append(type(getattr(metrics, "__self__", None)).__name__)
        return original_evaluate(job, snapshot, client, warehouse, metrics, *args, **kwargs)

    monkeypatch.setattr(MetricsAhead, "_covers", noted_covers)
    monkeypatch.setattr(portal_steps, "evaluate", noted_evaluate)
    summary = scan_cities(str(cities), ["solo"], "rescan", "cli", AS_OF)["solo"]
    assert summary["status"] == "succeeded" and summary["datasets"] == DATASETS
    assert covered == (["MetricsAhead", True] if setting is None else ["EvaluationPool"])
    assert not handoff.parked_labels()  # nothing of the portal left behind
