"""Check results and criterion scores: written once per distinct content, linked relationally.

A dataset-level result names the entry it judges by position (ids repeat in real catalogs);
one that only names a dataset id is about the first entry with that id. The write guard holds
every result to the run's own snapshot: a position or id that is not one of its dataset entries
is refused. The results are content-addressed (digests.py), so a result that an earlier run
already stored is not written again, and the snapshot's result set is re-used when equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, any_, bindparam, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from wwc_pipeline.results import CheckResult, Status
from wwc_pipeline.warehouse.convert import jsonable
from wwc_pipeline.warehouse.digests import check_result_digest, result_set_digest
from wwc_pipeline.warehouse.engine import WarehouseError
from wwc_pipeline.warehouse.entry_writes import WrittenEntries
from wwc_pipeline.warehouse.models import (
    CheckResultRow,
    CriterionScore,
    CriterionScoreCheck,
    ResultSet,
    ResultSetMember,
)
from wwc_pipeline.warehouse.writes import (
    bulk_insert,
    bulk_insert_new,
    chunks,
    insert_new_returning,
    insert_returning,
    is_postgresql,
)


def judged_version(result: CheckResult, entries: WrittenEntries) -> int | None:
    """The dataset version a result judges (None: the portal), or a one-line WarehouseError."""
    position = result.position
    if position is not None:
        entry = entries.by_position.get(position)
        if entry is None:
            raise WarehouseError(
                f"check {result.check_id!r} has a result for position {position}, which is not a "
                f"dataset entry of this run's snapshot of the portal ({len(entries.by_position)} entries)"
            )
        if result.dataset_id is not None and result.dataset_id != entry.dataset_id:
            raise WarehouseError(
                f"check {result.check_id!r} has a result for dataset {result.dataset_id!r} at position "
                f"{position}, where this run's snapshot lists {entry.dataset_id!r}"
            )
        return entry.version_pk
    if result.dataset_id is None:
        return None
    first = entries.first_position.get(result.dataset_id)
    if first is None:
        raise WarehouseError(
            f"check {result.check_id!r} has a result for dataset {result.dataset_id!r}, "
            "which is not a dataset of this run's snapshot of the portal"
        )
    return entries.by_position[first].version_pk


def result_rows(
    run_id: int, portal_id: int, results: Sequence[CheckResult], entries: WrittenEntries
) -> dict[str, dict[str, Any]]:
    """digest -> row, one per distinct result (the same result twice is one member)."""
    rows: dict[str, dict[str, Any]] = {}
    for result in results:
        try:
            status = Status(result.status).value
        except ValueError:
            raise WarehouseError(
                f"check {result.check_id!r} returned status {result.status!r}; expected pass, fail or na"
            ) from None
        version = judged_version(result, entries)
        value, reason = jsonable(result.value), result.reason or ""
        digest = check_result_digest(portal_id, version, result.check_id, status, value, reason)
        rows.setdefault(
            digest,
            {
                "portal_id": portal_id,
                "dataset_version_id": version,
                "check_id": result.check_id,
                "status": status,
                "value": value,
                "reason": reason,
                "digest": digest,
                "first_run_id": run_id,
            },
        )
    return rows


def result_ids(session: Session, digests: list[str]) -> dict[str, int]:
    """digest -> id of the stored results among these digests (PostgreSQL: one array parameter;
    SQLite: IN lists of a few thousand)."""
    found: dict[str, int] = {}
    if not digests:
        return found
    columns = select(CheckResultRow.digest, CheckResultRow.id)
    if is_postgresql(session):
        wanted = bindparam("digests", digests, type_=postgresql.ARRAY(String(64)))
        queries = [columns.where(CheckResultRow.digest == any_(wanted))]
    else:
        queries = [columns.where(CheckResultRow.digest.in_(part)) for part in chunks(digests)]
    for query in queries:
        found.update((digest, pk) for digest, pk in session.execute(query))
    return found


def write_check_results(
    session: Session,
    run_id: int,
    portal_id: int,
    results: Sequence[CheckResult],
    entries: WrittenEntries,
) -> tuple[int, int]:
    """The snapshot's result set id and the rows inserted; new results and sets only when new."""
    rows = result_rows(run_id, portal_id, results, entries)
    digest = result_set_digest(rows)
    lookup = select(ResultSet.id).where(ResultSet.portal_id == portal_id, ResultSet.digest == digest)
    existing = session.scalar(lookup)
    if existing is not None:
        return existing, 0
    ids = result_ids(session, list(rows))
    missing = [row for key, row in rows.items() if key not in ids]
    bulk_insert_new(session, CheckResultRow, missing, ["digest"])  # (or a concurrent writer did)
    ids.update(result_ids(session, [row["digest"] for row in missing]))
    set_row = {"portal_id": portal_id, "digest": digest, "results": len(rows), "first_run_id": run_id}
    made = insert_new_returning(session, ResultSet, [set_row], ["portal_id", "digest"], ["id"])
    if not made:
        return session.scalar(lookup), len(missing)
    result_set_id = made[0].id
    if ids:
        members = [{"result_set_id": result_set_id, "check_result_id": pk} for pk in ids.values()]
        bulk_insert(session, ResultSetMember, members)
    return result_set_id, len(missing) + 1 + len(ids)


def write_scores(session: Session, run_id: int, city_id: str, rows: list[dict[str, Any]]) -> None:
    """Score rows, each with one criterion_score_checks row per check id it names."""
    if not rows:
        return
    values = [{**row, "run_id": run_id, "city_id": city_id} for row in rows]
    made = insert_returning(session, CriterionScore, values, ["id", "criterion_id"])
    score_ids = {criterion_id: pk for pk, criterion_id in made}
    links = [
        {"score_id": score_ids[row["criterion_id"]], "check_id": check_id}
        for row in rows
        for check_id in dict.fromkeys(row["check_ids"] or [])
    ]
    if links:
        bulk_insert(session, CriterionScoreCheck, links)
