"""A city's scores across its runs, and what changed in one run since the previous one.

Runs are ordered by the time they describe (`as_of`, ties by id), so a run recorded late for an
earlier date still takes its place in the trend. Read from the score rows and snapshots the
warehouse already holds: every criterion's score and status, dataset and asset counts, the metric
shares the scores were computed from, and each portal's harvest counts.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from wwc_pipeline.warehouse.models import COMPLETE_STATUSES, CriterionScore, Portal, Run, Snapshot
from wwc_pipeline.warehouse.reads import iso

COMPLETED_RUNS = ("succeeded", "partial")
CHANGE_ROWS = 500  # dataset rows kept per kind of change; the counts are always complete


def completed_runs(session: Session, city_id: str, until: Run | None = None) -> list[Run]:
    """The city's completed runs in as-of order (ties by id), up to and including `until`."""
    query = select(Run).where(Run.city_id == city_id, Run.status.in_(COMPLETED_RUNS))
    if until is not None:
        query = query.where(or_(Run.as_of < until.as_of, and_(Run.as_of == until.as_of, Run.id <= until.id)))
    return list(session.scalars(query.order_by(Run.as_of, Run.id)))


def _metric_shares(counts: Any, into: dict[str, float | None]) -> None:
    for name, value in (counts or {}).items():
        if isinstance(value, dict) and {"pass", "fail"} <= set(value) and name not in into:
            into[name] = value.get("share")


def score_trend(session: Session, city_id: str, until: Run | None = None) -> list[dict[str, Any]]:
    """One point per completed run: run id, as-of, kind, datasets, assets, per-portal harvest
    counts, each criterion's score and status, and the metric shares behind the scores."""
    runs = completed_runs(session, city_id, until)
    run_ids = [run.id for run in runs]
    if not run_ids:
        return []
    portals: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for snapshot, url in session.execute(
        select(Snapshot, Portal.url)
        .join(Portal, Portal.id == Snapshot.portal_id)
        .where(Snapshot.run_id.in_(run_ids))
        .order_by(Snapshot.run_id, Snapshot.id)
    ):
        portals[snapshot.run_id].append(
            {
                "portal": url,
                "status": snapshot.status,
                "assets": snapshot.assets if snapshot.status in COMPLETE_STATUSES else None,
                "datasets": snapshot.datasets if snapshot.status in COMPLETE_STATUSES else None,
                "warnings": len(snapshot.warnings or []),
            }
        )
    criteria: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    shares: dict[int, dict[str, float | None]] = defaultdict(dict)
    for row in session.execute(
        select(
            CriterionScore.run_id,
            CriterionScore.criterion_id,
            CriterionScore.score,
            CriterionScore.status,
            CriterionScore.counts,
        )
        .where(CriterionScore.run_id.in_(run_ids))
        .order_by(CriterionScore.run_id, CriterionScore.id)
    ):
        criteria[row.run_id][row.criterion_id] = {"score": row.score, "status": row.status}
        _metric_shares(row.counts, shares[row.run_id])
    points = []
    for run in runs:
        complete = [p for p in portals[run.id] if p["status"] in COMPLETE_STATUSES]
        points.append(
            {
                "run_id": run.id,
                "as_of": iso(run.as_of),
                "kind": run.kind,
                "status": run.status,
                "datasets": sum(p["datasets"] or 0 for p in complete),
                "assets": sum(p["assets"] or 0 for p in complete),
                "portals": portals[run.id],
                "criteria": criteria[run.id],
                "shares": dict(sorted(shares[run.id].items())),
            }
        )
    return points


def previous_run(session: Session, run: Run) -> Run | None:
    """The city's completed run just before `run` in as-of order."""
    earlier = completed_runs(session, run.city_id, run)
    earlier = [r for r in earlier if r.id != run.id]
    return earlier[-1] if earlier else None


def _key(dataset: dict[str, Any]) -> tuple:
    return (dataset.get("portal"), dataset.get("dataset_id"), dataset.get("occurrence") or 1)


def _row(dataset: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "portal": dataset.get("portal"),
        "dataset_id": dataset.get("dataset_id"),
        "occurrence": dataset.get("occurrence") or 1,
        "title": dataset.get("title"),
        **extra,
    }


def changes(
    previous: dict[str, Any] | None, current_datasets: list[dict], current_criteria: list[dict]
) -> dict[str, Any]:
    """What changed from `previous` (a city_report of the previous run) to the current run:
    criteria that moved, datasets added and removed, checks newly failing and recovered."""
    if previous is None:
        return {"previous_run": None}
    before_scores = {c["criterion_id"]: c for c in previous.get("criteria") or []}
    moved = []
    for criterion in current_criteria:
        before = before_scores.get(criterion["criterion_id"])
        was = (before or {}).get("score"), (before or {}).get("status")
        now = criterion.get("score"), criterion.get("status")
        if was != now:
            moved.append(
                {
                    "criterion_id": criterion["criterion_id"],
                    "score_before": was[0],
                    "status_before": was[1],
                    "score": now[0],
                    "status": now[1],
                }
            )
    old = {_key(d): d for d in previous.get("datasets") or []}
    new = {_key(d): d for d in current_datasets}
    added = [_row(new[k]) for k in new if k not in old]
    removed = [_row(old[k]) for k in old if k not in new]
    newly_failing, recovered = [], []
    for key, dataset in new.items():
        earlier = old.get(key)
        if earlier is None:
            continue
        was_checks = earlier.get("checks") or {}
        for check_id, status in (dataset.get("checks") or {}).items():
            before = was_checks.get(check_id)
            if status == "fail" and before == "pass":
                reason = (dataset.get("reasons") or {}).get(check_id)
                newly_failing.append(_row(dataset, check_id=check_id, reason=reason))
            elif status == "pass" and before == "fail":
                recovered.append(_row(dataset, check_id=check_id))
    run = previous["run"]
    return {
        "previous_run": {"id": run["id"], "as_of": run.get("as_of"), "kind": run.get("kind")},
        "counts": {
            "criteria_moved": len(moved),
            "datasets_added": len(added),
            "datasets_removed": len(removed),
            "checks_newly_failing": len(newly_failing),
            "checks_recovered": len(recovered),
        },
        "criteria_moved": moved,
        "datasets_added": added[:CHANGE_ROWS],
        "datasets_removed": removed[:CHANGE_ROWS],
        "checks_newly_failing": newly_failing[:CHANGE_ROWS],
        "checks_recovered": recovered[:CHANGE_ROWS],
    }
