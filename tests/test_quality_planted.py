"""Planted defects are found exactly where they were planted, on every platform that serves rows.

Over HTTP with the simulator: the real harvest, the real connector's `sample_rows` and the
`content.quality` check. The ground truth is the simulator's `entry.planted_defects`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from wwc_pipeline import registry
from wwc_pipeline.config import PortalConfig
from wwc_pipeline.http import HttpClient
from wwc_pipeline.pipeline import harvest_portal
from wwc_pipeline.results import PortalContext, Status
from wwc_pipeline.simulator import GeneratedCatalog, PortalSimulator
from wwc_pipeline.simulator.defects import DEFECT_KINDS

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)
SIZE, SEED = 24, 1  # a catalog whose row-serving datasets carry every defect kind between them


def live_context(config: PortalConfig, client: HttpClient, row_validator=None) -> PortalContext:
    """The portal checks' context for a served portal (rows sampled through `client`)."""
    return PortalContext(
        config.platform,
        config.domain,
        AS_OF,
        client=client,
        connector=registry.get_connector(config.platform),
        portal_config=config,
        row_validator=row_validator,
    )


def run_check(platform: str, catalog: GeneratedCatalog, **portal) -> tuple[list, dict]:
    """The check's results over a simulated portal, and the catalog's entries by every id form."""
    from wwc_pipeline.checks.content import content_quality

    with PortalSimulator() as sim, HttpClient(min_interval=0, backoff=0) as client:
        served = sim.add_portal(platform=platform, catalog=catalog)
        config = PortalConfig(platform=platform, url=served.url, **portal)
        snapshot = harvest_portal(config, client)
        results = content_quality(snapshot.records, live_context(config, client))
    entries = {key: entry for entry in catalog.datasets for key in (entry.uid, entry.uuid, entry.slug)}
    return results, entries


@pytest.fixture(scope="module", params=["socrata", "ckan", "opendatasoft"])
def checked(request):
    catalog = GeneratedCatalog(size=SIZE, seed=SEED, as_of=AS_OF, share_dirty=0.5)
    results, entries = run_check(request.param, catalog, sample_datasets=SIZE + 5, sample_rows=100)
    return request.param, results, entries


def test_each_kind_is_found_exactly_where_it_was_planted(checked):
    platform, results, entries = checked
    validated = [r for r in results[1:] if r.status is not Status.NA]
    assert len(validated) >= 20, f"{platform}: too few datasets validated to mean anything"
    planted_here = set()
    for result in validated:
        planted = set(entries[result.dataset_id].planted_defects)
        planted_here |= planted
        assert set(result.value["defects"]) == planted, (platform, result.dataset_id, result.value["failed"])
    assert planted_here == set(DEFECT_KINDS)  # every kind was put to the test on this platform


def test_no_clean_dataset_is_flagged(checked):
    platform, results, entries = checked
    clean = [
        r for r in results[1:] if r.status is not Status.NA and not entries[r.dataset_id].planted_defects
    ]
    assert len(clean) >= 8
    for result in clean:
        assert result.status is Status.PASS and result.value["failed"] == [], (platform, result.reason)
        assert all(outcome["success"] for outcome in result.value["outcomes"])


def test_portal_result_summarises_what_was_found_where(checked):
    _, results, entries = checked
    portal, per_dataset = results[0], [r for r in results[1:] if r.status is not Status.NA]
    dirty = [r for r in per_dataset if entries[r.dataset_id].planted_defects]
    assert portal.value["validated"] == len(per_dataset)
    assert portal.value["clean"] == len(per_dataset) - len(dirty)
    assert portal.value["score"] == round(100 * portal.value["clean"] / len(per_dataset), 1) < 100
    for kind, found in portal.value["defects"].items():
        where = {r.dataset_id for r in per_dataset if kind in entries[r.dataset_id].planted_defects}
        assert found["datasets"] == len(where) and set(found["examples"]) <= where
    json.dumps([r.value for r in results])  # stored as JSON by the warehouse


def test_evidence_keeps_a_few_short_examples(checked):
    _, results, _ = checked
    for result in results[1:]:
        for outcome in (result.value or {}).get("outcomes", []):
            assert len(outcome["examples"]) <= 3
            assert all(len(example) <= 60 for example in outcome["examples"])
            if outcome["success"] is False and outcome["kind"] not in ("nulls", "no_rows"):
                assert outcome["examples"] and outcome["observed"] > outcome["allowed"]


def test_a_clean_catalog_scores_100():
    catalog = GeneratedCatalog(size=12, seed=SEED, as_of=AS_OF, share_dirty=0.0)
    results, _ = run_check("socrata", catalog, sample_datasets=12, sample_rows=50)
    assert results[0].value["score"] == 100.0 and results[0].status is Status.PASS
    assert results[0].value["validated"] == 12 and results[0].value["defects"] == {}
