"""An unchanged re-run keeps what it can of the previous evaluation, and only that.

Three portals that send validators (every page answers 304 when nothing changed), one city.
Each night runs twice: into a warehouse that replays unchanged catalogs and into one that
harvests and evaluates everything again; the evidence must be the same every night. The
steady state (third night, an hour after the second) must run no portal check that reads only
the records and configuration, write no check result and no `fresh` result; a night that turns
datasets stale, or a changed configuration, must run what it changes again.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.test_incremental_rescan import NIGHT_1, QUIET, evidence, fresh_warehouse, full_recompute, scan
from wwc_pipeline import incremental, pipeline, registry
from wwc_pipeline.config import CityConfig, PortalConfig
from wwc_pipeline.portal_reuse import REUSABLE_CHECKS
from wwc_pipeline.simulator.national import NationalSimulator
from wwc_pipeline.simulator.national_plan import national_plan

MODES = {"dcat": "etag", "socrata": "last-modified", "ckan": "etag", "opendatasoft": "both"}
AS_OF_CHECKS = ("portal.inventory", "portal.catalog_activity")


class Spy:
    """Which portal checks ran, and which results were handed to the warehouse, per night."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ran: list[str] = []
        self.written: list[str] = []
        self.fresh_built = 0  # `fresh` results built (a steady replay compares bare answers only)
        registry.load_plugins()
        for check_id in (*REUSABLE_CHECKS, *AS_OF_CHECKS):
            monkeypatch.setitem(registry.PORTAL_CHECKS, check_id, self._spied(check_id))
        fresh = registry.DATASET_CHECKS["fresh"]

        def counted_fresh(record, as_of):
            self.fresh_built += 1
            return fresh(record, as_of)

        monkeypatch.setitem(registry.DATASET_CHECKS, "fresh", counted_fresh)
        self.statuses_made = 0  # compact statuses made anew (a steady replay keeps the stored form)
        make = incremental.kept_statuses

        def counted_statuses(outcomes, positions):
            self.statuses_made += 1
            return make(outcomes, positions)

        monkeypatch.setattr(incremental, "kept_statuses", counted_statuses)
        record = pipeline.evaluate_portal

        def evaluate_portal(*args, **kwargs):
            outcome = record(*args, **kwargs)
            self.written.extend(result.check_id for result in outcome.check_results)
            return outcome

        monkeypatch.setattr(pipeline, "evaluate_portal", evaluate_portal)

    def _spied(self, check_id: str):
        check = registry.PORTAL_CHECKS[check_id]

        def spied(records, context):
            self.ran.append(check_id)
            return check(records, context)

        return spied

    def night(self) -> tuple[list[str], list[str]]:
        ran, written = self.ran, self.written
        self.ran, self.written, self.fresh_built, self.statuses_made = [], [], 0, 0
        return ran, written


def result_rows(warehouse) -> int:
    return warehouse.count_rows("check_results") + warehouse.count_rows("result_set_members")


def kept_statuses_match_the_rows(warehouse, run_id: int) -> int:
    """Each snapshot of the run keeps, for its next replay, exactly the metric statuses its result
    rows say (kept again as read on a steady replay, made anew when an answer changed); the
    snapshots that keep them."""
    from sqlalchemy import select

    from wwc_pipeline.evaluate import METRIC_NAMES
    from wwc_pipeline.warehouse.models import Snapshot
    from wwc_pipeline.warehouse.replay_reads import STATUSES_KEY, statuses_from_rows, stored_results

    checked = 0
    with warehouse._session() as session:
        snapshots = session.execute(select(Snapshot).where(Snapshot.run_id == run_id)).scalars().all()
        for snapshot in snapshots:
            if not (snapshot.harvest_replay or {}).get(STATUSES_KEY):
                continue
            stored = stored_results(session, snapshot.id, METRIC_NAMES)
            assert stored is not None and stored.compact is not None
            assert stored.statuses == statuses_from_rows(session, stored.entry_list_id, stored.set_ids)
            checked += 1
    return checked


def test_unchanged_reruns_keep_portal_checks_and_fresh_until_inputs_change(tmp_path, monkeypatch):
    incremental_wh = fresh_warehouse(f"sqlite:///{tmp_path / 'incremental.db'}")
    full_wh = fresh_warehouse(f"sqlite:///{tmp_path / 'full.db'}")
    plan = national_plan(20, datasets=800, seed=11, as_of=NIGHT_1, conditional=MODES)
    spy = Spy(monkeypatch)
    with NationalSimulator(plan, latency_s=0.0) as sim:
        chosen = {}
        for hosted in sim.portals:
            chosen.setdefault(hosted.platform, hosted)
        portals = [PortalConfig(platform=p.platform, url=p.url, **QUIET) for p in chosen.values()]
        city = CityConfig(id="nation", name="Nation", portals=portals, departments=["Police", "Parks"])

        built = []  # per night: `fresh` results the incremental scan built
        made = []  # per night: compact statuses made anew

        def night(as_of, city=city):
            spy.night()
            before = result_rows(incremental_wh)
            run = scan(incremental_wh, city, as_of)
            assert kept_statuses_match_the_rows(incremental_wh, run) == len(portals)
            built.append(spy.fresh_built)
            made.append(spy.statuses_made)
            ran, written = spy.night()
            rows = result_rows(incremental_wh) - before
            with monkeypatch.context() as patched:
                full_recompute(patched)
                full = scan(full_wh, city, as_of)
            spy.night()
            assert evidence(incremental_wh, "nation", run) == evidence(full_wh, "nation", full)
            return ran, written, rows

        night(NIGHT_1)
        ran, _, _ = night(NIGHT_1 + timedelta(hours=1))  # first replay: drift has a previous run now
        assert ran.count("content.schema_drift") == len(portals)
        # the steady state: nothing but the as-of checks runs, nothing is written
        ran, written, rows = night(NIGHT_1 + timedelta(hours=2))
        assert sorted(set(ran)) == sorted(AS_OF_CHECKS), ran
        assert ran.count("portal.inventory") == len(portals)
        assert not set(written) & {*REUSABLE_CHECKS, "fresh"}, sorted(set(written))
        assert rows == 0
        assert built[-1] == 0  # every `fresh` answer was the stored one: no result was built
        assert built[0] > 0
        assert made == [len(portals), 0, 0]  # the replays keep the stored statuses: none changed
        # 40 days on, datasets turned stale: `fresh` and the key types (their answers) run again;
        # what reads no time stays kept
        ran, written, rows = night(NIGHT_1 + timedelta(days=40))
        assert "key_datasets.types" in ran and "fresh" in written
        assert built[-1] > 0  # answers changed: the results are built (and compared above)
        assert made[-1] == len(portals)  # and the statuses made anew (held to the rows in night())
        assert "portal.policy_document" not in ran and "key_datasets.disaggregated" not in ran
        assert rows > 0
        # a changed configuration (the city's departments): every portal check runs again
        changed = city.model_copy(update={"departments": ["Police", "Parks", "Transit"]})
        ran, _, _ = night(NIGHT_1 + timedelta(days=40, hours=1), changed)
        assert set(REUSABLE_CHECKS) <= set(ran), sorted(set(ran))
        # a changed catalog is harvested and evaluated again (test_incremental_rescan.py)
        chosen["dcat"].touch(1, at=NIGHT_1 + timedelta(days=40))
        ran, _, _ = night(NIGHT_1 + timedelta(days=40, hours=2), changed)
        assert ran.count("portal.policy_document") == 1
    for warehouse in (incremental_wh, full_wh):
        warehouse.dispose()
