"""Real recorded catalogs replayed by the simulator, harvested over HTTP by the connectors:
the metrics must be exactly the expected vectors (the live path agrees with `wwc evaluate`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.conftest import REAL_PORTALS, manifest_rows
from wwc_pipeline import registry
from wwc_pipeline.config import PortalConfig
from wwc_pipeline.evaluate import evaluate_records
from wwc_pipeline.http import HttpClient
from wwc_pipeline.pipeline import harvest_portal
from wwc_pipeline.simulator import PortalSimulator, RecordedCatalog

NYC_PAGES = [f"socrata-discovery-nyc-attribution-dot-20250504-p{i}" for i in (1, 2, 3)]


def expected(name: str) -> tuple[dict, list[dict]]:
    summary = json.loads((REAL_PORTALS / "expected" / f"{name}.summary.json").read_text())
    details = [json.loads(line) for line in (REAL_PORTALS / "expected" / f"{name}.details.jsonl").open()]
    return summary, details


def harvest_replayed(platform: str, files: list) -> list:
    registry.load_plugins()
    with PortalSimulator() as sim, HttpClient(min_interval=0) as client:
        portal = sim.add_portal(platform=platform, catalog=RecordedCatalog(files))
        return harvest_portal(PortalConfig(platform=platform, url=portal.url), client).records


def as_of_of(summary: dict) -> datetime:
    return datetime.fromisoformat(summary["as_of"]).astimezone(UTC)


def replayable() -> list[str]:
    """DCAT and CKAN files, and Socrata views lists (served by `/api/views.json` alone)."""
    return [
        row["file"][:-5]
        for row in manifest_rows()
        if row["platform"] in ("dcat", "ckan") or row["file"].startswith("socrata-views-")
    ]


@pytest.mark.contract
@pytest.mark.parametrize("name", replayable() or ["(../shared absent)"])
def test_replayed_catalog_harvests_to_the_expected_metrics(name):
    if not (REAL_PORTALS / f"{name}.json").is_file():
        pytest.skip(f"{REAL_PORTALS} absent")
    summary, details = expected(name)
    platform = summary["platform"]
    records = harvest_replayed(platform, [REAL_PORTALS / f"{name}.json"])
    evaluation = evaluate_records(records, as_of_of(summary), platform, None)
    assert (evaluation.assets, evaluation.datasets) == (summary["assets"], summary["datasets"])
    assert evaluation.metrics == summary["metrics"]
    got = [d.details_line() for d in evaluation.dataset_evaluations]
    # same datasets, duplicates kept; CKAN's live order is by id (sort=id asc), not the dump's
    assert sorted(line["dataset_id"] for line in got) == sorted(line["dataset_id"] for line in details)


@pytest.mark.contract
def test_nyc_discovery_pages_harvested_by_scroll_match_the_three_vectors():
    if not (REAL_PORTALS / f"{NYC_PAGES[0]}.json").is_file():
        pytest.skip(f"{REAL_PORTALS} absent")
    vectors = [expected(name) for name in NYC_PAGES]
    records = harvest_replayed("socrata", [REAL_PORTALS / f"{name}.json" for name in NYC_PAGES])
    evaluation = evaluate_records(records, as_of_of(vectors[0][0]), "socrata", None)
    assert evaluation.assets == sum(summary["assets"] for summary, _ in vectors)
    assert evaluation.datasets == sum(summary["datasets"] for summary, _ in vectors)
    want = {line["dataset_id"]: line for _, details in vectors for line in details}
    got = {d.record.dataset_id: d.details_line() for d in evaluation.dataset_evaluations}
    assert got.keys() == want.keys()
    for dataset_id, line in want.items():
        assert got[dataset_id] == pytest.approx(line), dataset_id
