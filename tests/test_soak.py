"""Soak (issue 13 item 11): 30 nightly runs in a row against the simulator, faults of every kind.

Four cities, seven portals on all four platforms, a clock a day apart per night, catalogs that
change between nights, two seeded faults a night (soak_plan.py) and one run killed mid-way
(left `running` by a dead process, as `kill -9` leaves it). The plain pipeline functions run
each night (no Prefect). Afterwards the warehouse must hold: a final status for every run, no
dataset version twice, every score linked to check results of its own run, every complete
snapshot equal to what the simulator served that night, and not one request to the internal
stand-in (127.0.0.2), though one portal's links all point there. The summary is printed.

Each portal samples the rows of one dataset a night (not 3): validating samples with Great
Expectations was two thirds of the soak's time, and one sample a portal and night still puts
the row requests under every fault and writes `content.quality` results the scores must link to;
what the samples find is tested in test_quality_planted.py and test_quality_pool.py.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests import soak_plan
from wwc_pipeline.config import CityConfig, PortalConfig, load_criteria
from wwc_pipeline.http import HttpClient
from wwc_pipeline.pipeline import harvest_portal, scan_city
from wwc_pipeline.simulator import Faults, GeneratedCatalog, PortalSimulator
from wwc_pipeline.warehouse import Warehouse
from wwc_pipeline.warehouse.convert import portal_key
from wwc_pipeline.warehouse.models import (
    COMPLETE_STATUSES,
    CheckResultRow,
    CriterionScore,
    CriterionScoreCheck,
    DatasetRename,
    DatasetVersion,
    Portal,
    ResultSet,
    ResultSetMember,
    Run,
    Snapshot,
    SnapshotEntry,
    SnapshotResultSet,
)

pytestmark = pytest.mark.soak
NIGHTS = 30
KILLED_NIGHT = 12  # this night's first city dies mid-way; the next night must mark it abandoned
START = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
INTERNAL = "127.0.0.2"


class RetryCounter(logging.Handler):
    """Counts the client's "retry N of M" warnings: every retry the soak caused."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.retries = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.retries += "; retry " in record.getMessage()


def kill_mid_run(warehouse: Warehouse, city: CityConfig, client: HttpClient, as_of: datetime) -> int:
    """What `kill -9` leaves: a run `running`, one portal written, its process gone."""
    run_id = warehouse.start_run(city.id, city.name, "nightly", "schedule", as_of)
    portal = city.portals[0]
    snapshot = harvest_portal(portal, client)
    warehouse.record_portal(run_id, city.id, portal.platform, portal.url, snapshot, [])
    warehouse.finish_run(run_id, "succeeded")  # stops this process beating for it; then the crash:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with warehouse.engine.begin() as connection:
        connection.execute(
            update(Run).where(Run.id == run_id).values(status="running", finished_at=None, pid=dead.pid)
        )
    return run_id


def test_thirty_nights_with_faults_of_every_kind_leave_a_consistent_warehouse(
    tmp_path, record_property
) -> None:
    plan = soak_plan.fault_schedule(NIGHTS, sum(len(p) for p in soak_plan.CITIES.values()))
    assert not soak_plan.unplanned_kinds(plan), "a fault kind of the simulator is not soaked"
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'soak.db'}")
    warehouse.migrate()
    criteria = load_criteria()
    counter = RetryCounter()
    logging.getLogger("wwc_pipeline.http").addHandler(counter)
    truth: dict[tuple[str, int], tuple[Counter, int]] = {}  # (url, night) -> dataset ids, assets
    faults_used: Counter = Counter()
    changes: Counter = Counter()
    killed = None
    with (
        PortalSimulator(host=INTERNAL) as inside,
        PortalSimulator() as sim,
        HttpClient(min_interval=0, max_attempts=3, backoff=0.01, max_wait=0.05, timeout=(2, 5)) as client,
    ):
        internal = inside.add_portal("dcat", GeneratedCatalog(size=3, seed=99, as_of=START))
        portals, cities = [], []
        for number, (city_id, specs) in enumerate(soak_plan.CITIES.items()):
            configs = []
            for platform, size in specs:
                catalog = GeneratedCatalog(
                    size=size, seed=len(portals) + 1, name=city_id.title(), as_of=START
                )
                public = internal.url if city_id == "dunmore" else None
                portal = sim.add_portal(platform, catalog, public_url=public)
                portals.append(portal)
                configs.append(
                    PortalConfig(
                        platform=platform,
                        url=portal.url,
                        sample_datasets=1,  # the row path under faults (see the docstring)
                        sample_rows=50,
                        check_links=5,
                        request_deadline_s=2.0,
                    )
                )
            cities.append(CityConfig(id=city_id, name=city_id.title(), portals=configs))
            assert number < 4
        for night in range(NIGHTS):
            as_of = START + timedelta(days=night)
            for position, portal in enumerate(portals):
                portal.set_faults(Faults())
                if night:
                    changes += soak_plan.change_catalog(portal, position, night, as_of)
                truth[(portal_key(portal.url), night)] = soak_plan.served_ids(portal)
            for fault in (f for f in plan if f.night == night):
                portal = portals[fault.portal]

                def mirror(portal=portal) -> str:
                    return sim.add_portal(
                        portal.platform, portal.catalog, public_url=portal.site.base_url
                    ).url

                portal.set_faults(soak_plan.make_faults(fault.kind, night, portal, internal.url, mirror))
                faults_used[fault.kind] += 1
            for index, city in enumerate(cities):
                if night == KILLED_NIGHT and index == 0:
                    killed = kill_mid_run(warehouse, city, client, as_of)
                    continue
                scan_city(
                    city,
                    warehouse=warehouse,
                    criteria=criteria,
                    client=client,
                    kind="nightly",
                    trigger="schedule",
                    as_of=as_of,
                )
        internal_requests = len(internal.requests)
    logging.getLogger("wwc_pipeline.http").removeHandler(counter)

    with warehouse.engine.connect() as db:
        runs = db.execute(select(Run.id, Run.status, Run.error, Run.as_of, Run.finished_at)).all()
        portal_urls = dict(db.execute(select(Portal.id, Portal.url)).all())
        snapshots = db.execute(
            select(
                Snapshot.id,
                Snapshot.run_id,
                Snapshot.portal_id,
                Snapshot.status,
                Snapshot.error,
                Snapshot.entry_list_id,
                Snapshot.assets,
            )
        ).all()
        run_as_of = {run.id: run.as_of for run in runs}
        renames = Counter(db.execute(select(DatasetRename.rule)).scalars())
        # every run has a final status; the killed one was marked abandoned by the next night
        assert len(runs) == NIGHTS * len(cities)
        assert all(run.status in ("succeeded", "partial", "failed") and run.finished_at for run in runs)
        [abandoned] = [run for run in runs if run.id == killed]
        assert abandoned.status == "failed" and abandoned.error.startswith("abandoned: process ")
        # no dataset version twice: no number twice, and no version that repeats the one before it
        # (content may come back, e.g. after a night of damaged bytes: that is a new version)
        versions = db.execute(
            select(DatasetVersion.dataset_id, DatasetVersion.version, DatasetVersion.content_hash)
        ).all()
        assert len({(v.dataset_id, v.version) for v in versions}) == len(versions)
        previous: dict[int, tuple[int, str]] = {}
        for version in sorted(versions, key=lambda v: (v.dataset_id, v.version)):
            before = previous.get(version.dataset_id)
            assert before is None or before[1] != version.content_hash, version
            previous[version.dataset_id] = (version.version, version.content_hash)
        # every score's check links reach check results of a snapshot of the score's own run
        links = db.execute(
            select(CriterionScore.run_id, CriterionScoreCheck.check_id, CriterionScore.status).join(
                CriterionScoreCheck, CriterionScoreCheck.score_id == CriterionScore.id
            )
        ).all()
        held = set(
            db.execute(
                select(Snapshot.run_id, ResultSet.check_id)
                .join(SnapshotResultSet, SnapshotResultSet.snapshot_id == Snapshot.id)
                .join(ResultSet, ResultSet.id == SnapshotResultSet.result_set_id)
                .join(ResultSetMember, ResultSetMember.result_set_id == ResultSet.id)
                .join(CheckResultRow, CheckResultRow.id == ResultSetMember.check_result_id)
            ).all()
        )
        # (a run whose every portal failed has no results: its scores, all "insufficient evidence",
        # still name the checks they would be derived from)
        status = {run.id: run.status for run in runs}
        unlinked = [link for link in links if (link.run_id, link.check_id) not in held]
        assert links and len(unlinked) < len(links)
        assert {(status[link.run_id], link.status) for link in unlinked} <= {
            ("failed", "insufficient evidence")
        }
        # every complete snapshot lists what the simulator served that night: ids, repeats, count
        entries_checked = rows_lost = 0
        for snapshot in (s for s in snapshots if s.status in COMPLETE_STATUSES):
            # the identifier as that snapshot listed it (a dataset row carries its latest one
            # after a rename; the version's record keeps the one it was listed under)
            listed = db.execute(
                select(DatasetVersion.record, SnapshotEntry.repeat_of_position)
                .join(DatasetVersion, DatasetVersion.id == SnapshotEntry.dataset_version_id)
                .where(SnapshotEntry.entry_list_id == snapshot.entry_list_id)
            ).all()
            night = (
                (run_as_of[snapshot.run_id] - START.replace(tzinfo=None)).days
                if run_as_of[snapshot.run_id].tzinfo is None
                else (run_as_of[snapshot.run_id] - START).days
            )
            expected, assets = truth[(portal_urls[snapshot.portal_id], night)]
            assert snapshot.assets == assets, (portal_urls[snapshot.portal_id], night)
            got = Counter(row.record["dataset_id"] for row in listed)
            assert got == expected, (portal_urls[snapshot.portal_id], night, expected - got, got - expected)
            assert sum(row.repeat_of_position is not None for row in listed) == sum(
                n - 1 for n in expected.values()
            )
            entries_checked += len(listed)
            rows_lost += sum((expected - got).values())
    assert internal_requests == 0

    failures = Counter(_reason(s.error) for s in snapshots if s.status == "failed")
    failures.update(_reason(r.error) for r in runs if r.error and r.error.startswith("abandoned"))
    lines = [
        f"soak: {NIGHTS} nights, {len(cities)} cities, {len(portals)} portals "
        f"({', '.join(sorted({p.platform for p in portals}))})",
        f"runs by status: {dict(sorted(Counter(r.status for r in runs).items()))}",
        f"portal scans: {len(snapshots)}",
        f"snapshots by status: {dict(sorted(Counter(s.status for s in snapshots).items()))}",
        f"catalog changes: {dict(sorted(changes.items()))}",
        f"faults by kind: {dict(sorted(faults_used.items()))}",
        f"retries: {counter.retries}",
        "failures recorded by reason:",
        *(f"  {n:3d}  {why}" for why, n in failures.most_common()),
        f"renames recorded by rule: {dict(sorted(renames.items()))}",
        f"rows lost: {rows_lost}",
        f"entries checked: {entries_checked}",
        f"requests to internal address {INTERNAL}: {internal_requests}",
    ]
    record_property("summary", "\n".join(lines))  # printed after the run (tests/conftest.py)
    assert set(faults_used) == set(soak_plan.FAULT_KINDS)
    warehouse.dispose()


def _reason(error: str | None) -> str:
    """A failure's reason without its URL and numbers, so like failures count together."""
    text = (error or "").split(" failed: ", 1)[-1]
    text = re.sub(r"https?://\S+", "URL", text)
    return re.sub(r"(?<![\d.])\d+(\.\d+)?(?![\d.])", "N", text)[:110]
