"""A portal written while its portal checks still wait on the portal (`write_during_checks`)
stores exactly what a write after the checks stores; a failure on the way keeps nothing; the
flow takes the pending path only for a run of one portal, unless the settings say otherwise."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
import yaml

from tests.test_replay_pool import EVIDENCE, row_total
from wwc_pipeline import portal_evaluation, portal_steps
from wwc_pipeline.config import PortalConfig, load_criteria
from wwc_pipeline.http import HttpClient
from wwc_pipeline.pending_outcome import PendingOutcome
from wwc_pipeline.portal_steps import PortalJob
from wwc_pipeline.simulator.national import NationalSimulator
from wwc_pipeline.simulator.national_plan import single_portal_plan
from wwc_pipeline.warehouse import Warehouse
from wwc_pipeline.warehouse.engine import WarehouseError

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def portal():
    """One Socrata portal of 120 datasets whose rows are sampled and links probed (the defaults)."""
    with NationalSimulator(single_portal_plan("socrata", 120, seed=4, as_of=AS_OF), latency_s=0.01) as sim:
        [spec] = sim.portals
        yield PortalConfig(platform=spec.platform, url=spec.url)


def scan(
    url: str, portal: PortalConfig, pending: bool, checks_in_child: bool = False
) -> tuple[Warehouse, PortalJob, object, object]:
    """The portal's harvest and evaluation into a fresh warehouse, not yet written."""
    warehouse = Warehouse(url)
    warehouse.migrate()
    [run_id] = warehouse.start_runs([("solo", "Solo")], "rescan", "cli", AS_OF)
    job = PortalJob("solo", "Solo", run_id, portal, AS_OF)
    client = HttpClient(per_host=2)
    snapshot = portal_steps.harvest(job, client, warehouse)
    outcome = portal_steps.evaluate(
        job, snapshot, client, warehouse, pending=pending, checks_in_child=checks_in_child
    )
    return warehouse, job, snapshot, outcome


def one_portal_city(tmp_path: Path, portal: PortalConfig, concurrency: dict, monkeypatch: Any) -> Path:
    """A cities file of one city ("solo") with this one portal and these `concurrency` settings,
    and a warehouse of its own for the flow to write."""
    monkeypatch.setenv("WWC_DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    portals = [{"platform": portal.platform, "url": portal.url}]
    document = {"concurrency": concurrency, "cities": [{"id": "solo", "name": "Solo", "portals": portals}]}
    cities = tmp_path / "cities.yaml"
    cities.write_text(yaml.safe_dump(document))
    return cities


def stored(url: str) -> dict:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            found = {
                name: sorted(
                    tuple(map(str, row)) for row in connection.execute(sqlalchemy.text(query), {"after": 0})
                )
                for name, query in EVIDENCE.items()
            }
        return {**found, "rows": row_total(engine)}
    finally:
        engine.dispose()


def test_a_write_during_the_checks_stores_what_a_write_after_them_stores(portal, tmp_path):
    written = {}
    for pending in (False, True):
        url = f"sqlite:///{tmp_path / f'{pending}.db'}"
        warehouse, job, snapshot, outcome = scan(url, portal, pending)
        assert isinstance(outcome, PendingOutcome) is pending
        if pending:  # the evaluation came back with the dataset results only, the checks under way
            assert outcome.first_results and not any(
                r.check_id == "harvest.catalog" for r in outcome.first_results
            )
        done = portal_steps.write(job, snapshot, outcome, warehouse)
        result = portal_steps.close_city("solo", job.run_id, [done], load_criteria(), warehouse)
        assert result.status == "succeeded"
        written[pending] = stored(url), result.scores, done.evidence
    assert written[True] == written[False]
    results = written[True][0]["results"]
    assert {"content.quality", "links.reachable"} <= {row[1] for row in results}  # the checks that waited


@pytest.mark.parametrize("breaks", ["finish", "same check twice"])
def test_a_pending_write_that_fails_keeps_nothing_and_the_portal_fails_alone(
    portal, tmp_path, monkeypatch, breaks
):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    warehouse, job, snapshot, outcome = scan(url, portal, pending=True)
    if breaks == "finish":

        def broken(*_args, **_kwargs):
            raise RuntimeError("the checks' evidence could not be put together")

        monkeypatch.setattr(portal_evaluation, "_completed", broken)
    else:  # a check's results in both parts would be two result sets of one check
        monkeypatch.setattr(PendingOutcome, "later_results", lambda self: (self.first_results[:1], None))
    with pytest.raises((RuntimeError, WarehouseError), match="put together|came in two parts"):
        portal_steps.write(job, snapshot, outcome, warehouse)
    before = stored(url)
    assert before["results"] == [] and before["snapshots"] == []
    done = portal_steps.fail(job, "evaluation failed", warehouse)
    assert done.failed and stored(url)["snapshots"] == [(portal.url, "failed", "0", "0", "0")]


@pytest.mark.parametrize("setting", [None, False])
def test_a_scan_of_a_one_portal_city_writes_during_its_checks(
    prefect_harness, portal, tmp_path, monkeypatch, setting
):
    from wwc_pipeline.flows.nightly import scan_cities

    during = {} if setting is None else {"write_during_checks": setting}
    cities = one_portal_city(tmp_path, portal, during, monkeypatch)
    written = []
    original = portal_steps.write

    def noted(job, snapshot, outcome, *args, **kwargs):
        written.append(type(outcome).__name__)
        return original(job, snapshot, outcome, *args, **kwargs)

    monkeypatch.setattr(portal_steps, "write", noted)
    summary = scan_cities(str(cities), ["solo"], "rescan", "cli", AS_OF)["solo"]
    assert summary["status"] == "succeeded"
    assert written == ["PendingOutcome" if setting is None else "PortalOutcome"]
