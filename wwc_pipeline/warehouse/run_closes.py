"""Closing runs: each city's criterion scores and its run's end, many cities in one transaction.

A nightly closes hundreds of cities. On SQLite each close waited for the one writer and ran its
own statements (the run looked up, the old scores deleted, the scores and their checks inserted,
the run ended), each statement giving the GIL up and waiting to win it back among the busy
portal threads. Closed together, a batch runs those statements once for all its cities.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from wwc_pipeline.warehouse.convert import now
from wwc_pipeline.warehouse.engine import WarehouseError
from wwc_pipeline.warehouse.models import CriterionScore, CriterionScoreCheck, Run
from wwc_pipeline.warehouse.writes import bulk_insert, chunks, insert_returning


class RunClose(NamedTuple):
    """One city's run to close: its scores (as `score_city` gives them) and how it ended."""

    run_id: int
    city_id: str
    scores: list[dict[str, Any]]
    status: str
    error: str | None = None


def close_runs(session: Session, closes: Sequence[RunClose], score_rows: Any) -> None:
    """Replace each run's scores and end it; `score_rows(scores)` validates and shapes a city's
    scores (raises WarehouseError). A run closed twice in `closes` keeps its last close."""
    latest = {close.run_id: close for close in closes}
    run_ids = list(latest)
    cities: dict[int, str] = {}
    for some in chunks(run_ids):
        cities.update(session.execute(select(Run.id, Run.city_id).where(Run.id.in_(some))).tuples().all())
    for close in latest.values():
        if cities.get(close.run_id) != close.city_id:
            raise WarehouseError(
                f"run {close.run_id} of city {close.city_id!r} not found; start it with start_run()"
            )
    shaped = {run_id: score_rows(close.scores) for run_id, close in latest.items()}
    for some in chunks(run_ids):
        session.execute(delete(CriterionScore).where(CriterionScore.run_id.in_(some)))
    values = [
        {**row, "run_id": run_id, "city_id": latest[run_id].city_id}
        for run_id, rows in shaped.items()
        for row in rows
    ]
    if values:
        made = insert_returning(session, CriterionScore, values, ["id", "run_id", "criterion_id"])
        score_ids = {(run_id, criterion_id): pk for pk, run_id, criterion_id in made}
        links = [
            {"score_id": score_ids[(run_id, row["criterion_id"])], "check_id": check_id}
            for run_id, rows in shaped.items()
            for row in rows
            for check_id in dict.fromkeys(row["check_ids"] or [])
        ]
        bulk_insert(session, CriterionScoreCheck, links)
    ended = now()
    ends = [
        {
            "id": run_id,
            "status": close.status,
            "error": close.error,
            "finished_at": ended,
            "heartbeat_at": ended,
        }
        for run_id, close in latest.items()
    ]
    session.execute(update(Run), ends)  # by primary key: one executemany
