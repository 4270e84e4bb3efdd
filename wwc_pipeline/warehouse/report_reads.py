"""The report of one city's run: one dataset row per snapshot entry, in catalog order.

Repeated ids are rows of their own, marked with their `occurrence` and the position they
repeat (`repeat_of`). A check result is placed on the entry that holds the version it judges;
one that has no such entry (which the write guard prevents) is left out, never a crash.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wwc_pipeline.warehouse.engine import WarehouseError
from wwc_pipeline.warehouse.models import (
    COMPLETE_STATUSES,
    City,
    Dataset,
    DatasetVersion,
    Portal,
    Run,
    Snapshot,
    SnapshotEntry,
)
from wwc_pipeline.warehouse.reads import check_dict, check_rows, listed_id, run_dict, score_dicts
from wwc_pipeline.warehouse.score_trend_reads import changes, previous_run, score_trend

PRIVATE_RUN_FIELDS = ("city_id", "host", "pid", "heartbeat_at")  # not for a published report


def report_run(session: Session, city_id: str, run_id: int | None) -> Run:
    """The run asked for, else the city's latest completed one; one-line errors otherwise."""
    if run_id is None:
        query = select(Run).where(Run.city_id == city_id, Run.status.in_(("succeeded", "partial")))
        run = session.scalars(query.order_by(Run.as_of.desc(), Run.id.desc()).limit(1)).first()
        if run is None:
            raise WarehouseError(
                f"no completed run for city {city_id}; run `wwc scan --city {city_id}` first"
            )
        return run
    run = session.get(Run, run_id)
    if run is None or run.city_id != city_id:
        raise WarehouseError(f"run {run_id} is not a run of city {city_id}; see `wwc runs --city {city_id}`")
    return run


def entry_rows(session: Session, run_id: int) -> dict[tuple[int, int], dict[str, Any]]:
    """(snapshot id, dataset version id) -> the report row of that entry, in catalog order."""
    listed = (
        select(
            Snapshot.id.label("snapshot_id"),
            Portal.url,
            SnapshotEntry.position,
            SnapshotEntry.dataset_version_id,
            SnapshotEntry.repeat_of_position,
            SnapshotEntry.flags,
            listed_id(DatasetVersion).label("dataset_key"),  # as this run listed it (renames later)
            Dataset.occurrence,
            DatasetVersion.title,
            DatasetVersion.record["landing_page"].as_string().label("landing_page"),
        )
        .join(Portal, Portal.id == Snapshot.portal_id)
        .join(SnapshotEntry, SnapshotEntry.entry_list_id == Snapshot.entry_list_id)
        .join(Dataset, Dataset.id == SnapshotEntry.dataset_id)
        .join(DatasetVersion, DatasetVersion.id == SnapshotEntry.dataset_version_id)
        .where(Snapshot.run_id == run_id, Snapshot.status.in_(COMPLETE_STATUSES))
        .order_by(Snapshot.id, SnapshotEntry.position)
    )
    return {
        (row.snapshot_id, row.dataset_version_id): {
            "portal": row.url,
            "dataset_id": row.dataset_key,
            "title": row.title,
            "landing_page": row.landing_page,  # as the portal gave it; reports link http(s) only
            "position": row.position,
            "occurrence": row.occurrence,
            "repeat_of": row.repeat_of_position,
            "flags": list(row.flags or []),
            "checks": {},
            "reasons": {},
            "values": {},
        }
        for row in session.execute(listed)
    }


def city_report(session: Session, city_id: str, run_id: int | None, history: bool = True) -> dict[str, Any]:
    """Everything a report shows for one city's run (the latest completed one by default); with
    `history`, the score trend up to this run and the changes since the previous run too."""
    run = report_run(session, city_id, run_id)
    report = run_report(session, city_id, run)
    if history:
        report["score_trend"] = score_trend(session, city_id, run)
        earlier = previous_run(session, run)
        before = run_report(session, city_id, earlier) if earlier is not None else None
        report["since_previous"] = changes(before, report["datasets"], report["criteria"])
    return report


def score_report(session: Session, city_id: str, run_id: int) -> dict[str, Any]:
    """What a score summary shows (city, run, portals, criteria) without the datasets and their
    checks: the Prefect artifact of every city's run, cheap whatever the catalog's size."""
    run = report_run(session, city_id, run_id)
    city = session.get(City, city_id)
    return {
        "city": {"id": city_id, "name": city.name if city else city_id},
        "run": {key: value for key, value in run_dict(run).items() if key not in PRIVATE_RUN_FIELDS},
        "portals": portal_rows(session, run),
        "criteria": score_dicts(session, run.id),
    }


def portal_rows(session: Session, run: Run) -> list[dict[str, Any]]:
    return [
        {
            "platform": portal.platform,
            "url": portal.url,
            "status": snap.status,
            "error": snap.error,
            "assets": snap.assets,
            "datasets": snap.datasets,
            "pages": snap.pages,
            "warnings": snap.warnings,
        }
        for snap, portal in session.execute(
            select(Snapshot, Portal).join(Portal).where(Snapshot.run_id == run.id).order_by(Snapshot.id)
        )
    ]


def run_report(session: Session, city_id: str, run: Run) -> dict[str, Any]:
    """The report of one run: city, run, portals, criteria, datasets with their checks, portal checks."""
    city = session.get(City, city_id)
    portals = portal_rows(session, run)
    datasets = entry_rows(session, run.id)
    portal_checks = []
    for row in session.execute(check_rows(run.id)):
        if row.dataset_version_id is None:
            portal_checks.append(
                {
                    key: value
                    for key, value in check_dict(row).items()
                    if key not in ("dataset_id", "position")
                }
            )
            continue
        entry = datasets.get((row.snapshot_id, row.dataset_version_id))
        if entry is None:
            continue  # not an entry of this run's snapshot: nothing to place it on
        entry["checks"][row.check_id] = row.status
        entry["reasons"][row.check_id] = row.reason
        entry["values"][row.check_id] = row.value
    return {
        "city": {"id": city_id, "name": city.name if city else city_id},
        "run": {key: value for key, value in run_dict(run).items() if key not in PRIVATE_RUN_FIELDS},
        "portals": portals,
        "criteria": score_dicts(session, run.id),
        "datasets": list(datasets.values()),
        "portal_checks": portal_checks,
    }


def report_cities(session: Session, city_ids: list[str] | None) -> list[tuple[str, str]]:
    """(id, name) of the cities asked for (default: all the warehouse knows), by name; an id the
    warehouse does not know is an error naming the known ones."""
    known = {city.id: city.name for city in session.scalars(select(City))}
    if city_ids is None:
        return sorted(known.items(), key=lambda item: (item[1].lower(), item[0]))
    unknown = [city_id for city_id in city_ids if city_id not in known]
    if unknown:
        names = ", ".join(sorted(known)) or "none"
        raise WarehouseError(f"no run recorded for city {', '.join(unknown)}; known cities: {names}")
    return [(city_id, known[city_id]) for city_id in city_ids]
