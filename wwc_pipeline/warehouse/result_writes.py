"""Check results and criterion scores: written once per distinct content, linked relationally.

A dataset-level result names the entry it judges by position (ids repeat in real catalogs);
one that only names a dataset id is about the first entry with that id. The write guard holds
every result to the run's own snapshot: a position or id that is not one of its dataset entries
is refused. The results are content-addressed (digests.py), so a result that an earlier run
already stored is not written again; a snapshot's results are grouped in one result set per
check, and a set equal to one stored before is re-used.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager as ContextManager
from contextlib import nullcontext
from typing import Any, NamedTuple

from sqlalchemy import String, any_, bindparam, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from wwc_pipeline.forked_items import ForkedItems
from wwc_pipeline.results import CheckResult, Status
from wwc_pipeline.warehouse import sqlite_bulk
from wwc_pipeline.warehouse.convert import jsonable
from wwc_pipeline.warehouse.digests import (
    JSONText,
    check_result_digest_of_text,
    encoded_value,
    result_set_digest,
)
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


RESULT_COLUMNS = (
    "portal_id", "dataset_version_id", "check_id", "status", "value", "reason", "digest", "first_run_id"
)  # fmt: skip
_DIGEST = RESULT_COLUMNS.index("digest")
_VALUE = RESULT_COLUMNS.index("value")


class CheckRows(NamedTuple):
    """One check's distinct results as rows: tuples in RESULT_COLUMNS order (the value as its
    stored JSON text, a plain str), their digests in the same order, and the set's digest."""

    digests: list[str]
    values: list[tuple]
    set_digest: str


def result_rows(
    run_id: int, portal_id: int, results: Sequence[CheckResult], entries: WrittenEntries
) -> CheckRows:
    """One row per distinct result (the same result twice is one member). A value object that
    several results share (a check's "nothing changed" detail) is encoded once."""
    rows: dict[str, tuple] = {}
    encoded: dict[int, tuple[str, str]] = {}  # id(value) -> texts; every value stays alive in `results`
    for result in results:
        try:
            status = Status(result.status).value
        except ValueError:
            raise WarehouseError(
                f"check {result.check_id!r} returned status {result.status!r}; expected pass, fail or na"
            ) from None
        version = judged_version(result, entries)
        reason = result.reason or ""
        texts = encoded.get(id(result.value))
        if texts is None:
            value_text, stored = encoded_value(jsonable(result.value))
            texts = encoded[id(result.value)] = (value_text, str(stored))
        value_text, value = texts
        digest = check_result_digest_of_text(portal_id, version, result.check_id, status, value_text, reason)
        if digest not in rows:
            rows[digest] = (portal_id, version, result.check_id, status, value, reason, digest, run_id)
    digests = list(rows)
    return CheckRows(digests, list(rows.values()), result_set_digest(digests))


def result_ids(session: Session, portal_id: int, digests: list[str]) -> dict[str, int]:
    """digest -> id of this portal's stored results among these digests (PostgreSQL: one array
    parameter; SQLite: IN lists of a few thousand), found through the (portal, digest) index."""
    found: dict[str, int] = {}
    if not digests:
        return found
    columns = select(CheckResultRow.digest, CheckResultRow.id).where(CheckResultRow.portal_id == portal_id)
    if is_postgresql(session):
        wanted = bindparam("digests", digests, type_=postgresql.ARRAY(String(64)))
        queries = [columns.where(CheckResultRow.digest == any_(wanted))]
    else:
        queries = [columns.where(CheckResultRow.digest.in_(part)) for part in chunks(digests)]
    for query in queries:
        found.update((digest, pk) for digest, pk in session.execute(query))
    return found


def checks_stored(session: Session, portal_id: int, check_ids: list[str]) -> set[str]:
    """The checks of which this portal has any result stored: a result's digest names its
    portal and check, so only those can have a digest stored already (a new portal has none:
    its first write looks none up). One indexed probe a check."""
    stored = set()
    for check_id in check_ids:
        probe = select(CheckResultRow.id).where(
            CheckResultRow.portal_id == portal_id, CheckResultRow.check_id == check_id
        )
        if session.execute(probe.limit(1)).first() is not None:
            stored.add(check_id)
    return stored


_RESULT_KEY = ["portal_id", "digest"]  # the unique key a concurrent writer's equal row collides on


def insert_results(session: Session, portal_id: int, rows: list[tuple]) -> dict[str, int]:
    """digest -> id of these new result rows (`CheckRows.values`), once stored (by this write or
    a concurrent one). SQLite numbers them as it inserts them; PostgreSQL returns those of the
    rows it added and looks up only the rest; elsewhere the ids are looked up after the insert."""
    if not rows:
        return {}
    table = CheckResultRow.__table__
    numbered = sqlite_bulk.insert_numbered_values(session, table, RESULT_COLUMNS, rows, _RESULT_KEY)
    if numbered is not None:
        return {row[_DIGEST]: pk for row, pk in zip(rows, numbered, strict=True)}
    # PostgreSQL tells the ids of the rows it added; the others (a concurrent writer's, or all of
    # them where the database tells none) are looked up
    as_dicts = [_row_dict(row) for row in rows]
    added = dict(bulk_insert_new(session, CheckResultRow, as_dicts, _RESULT_KEY, ["digest", "id"]))
    unknown = [row[_DIGEST] for row in rows if row[_DIGEST] not in added]
    return {**added, **result_ids(session, portal_id, unknown)}


def _row_dict(row: tuple) -> dict[str, Any]:
    """A result row as the engines' bulk paths take it: the value as `JSONText` (stored as it is)."""
    as_dict = dict(zip(RESULT_COLUMNS, row, strict=True))
    as_dict["value"] = JSONText(row[_VALUE])
    return as_dict


_SETS = ResultSet.__table__.c
_SET_IDS = select(_SETS.digest, _SETS.id).where(  # Core: a fifth of the ORM's cost, once per check
    _SETS.portal_id == bindparam("portal_id"), _SETS.digest.in_(bindparam("digests", expanding=True))
)


def set_ids(session: Session, portal_id: int, digests: list[str]) -> dict[str, int]:
    rows = session.connection().execute(_SET_IDS, {"portal_id": portal_id, "digests": list(digests)})
    return {digest: pk for digest, pk in rows}


def write_check_results(
    session: Session,
    run_id: int,
    portal_id: int,
    results: Sequence[CheckResult],
    entries: WrittenEntries,
    written: Sequence[CheckResult] = (),
    rows_in_child: bool = False,
) -> tuple[list[int], int]:
    """The snapshot's result sets, one per check (an equal set stored before is re-used), and
    the rows inserted: results, sets and members only for the checks whose results changed.
    One check at a time, so that a big portal's rows are never all built at once (a tenth of
    the memory a 10,000-dataset write took when they were). `written`: the results an earlier
    call of the same write stored; a check of theirs would get a second set, and is refused.
    `rows_in_child`: with CHILD_FROM_RESULTS results or more, a forked child makes the next
    check's rows while this one's are inserted (forked_items.py; the rows are the same)."""
    by_check: dict[str, list[CheckResult]] = {}
    for result in results:
        by_check.setdefault(result.check_id, []).append(result)
    twice = set(by_check) & {result.check_id for result in written}
    if twice:
        raise WarehouseError(f"check results of {', '.join(sorted(twice))} came in two parts of one write")
    result_set_ids, written = [], 0
    with _rows_ahead(run_id, portal_id, by_check, entries, rows_in_child) as ahead:
        for check_id, of_check in by_check.items():
            made = ahead.next() if ahead is not None else None
            result_set_id, rows_written = write_check(
                session, run_id, portal_id, check_id, of_check, entries, made
            )
            result_set_ids.append(result_set_id)
            written += rows_written
    return sorted(result_set_ids), written


CHILD_FROM_RESULTS = 20_000  # fewer: the fork costs more than the child saves


def _rows_ahead(
    run_id: int,
    portal_id: int,
    by_check: dict[str, list[CheckResult]],
    entries: WrittenEntries,
    rows_in_child: bool,
) -> ContextManager[ForkedItems | None]:
    """Each check's `result_rows`, in `by_check`'s order, from a forked child (or nothing)."""
    if not rows_in_child or sum(map(len, by_check.values())) < CHILD_FROM_RESULTS:
        return nullcontext()
    return ForkedItems(lambda: (result_rows(run_id, portal_id, of, entries) for of in by_check.values()))


def write_check(
    session: Session,
    run_id: int,
    portal_id: int,
    check_id: str,
    results: list[CheckResult],
    entries: WrittenEntries,
    made: CheckRows | None = None,
) -> tuple[int, int]:
    """One check's result set (an equal set stored before is re-used) and the rows inserted;
    `made`: its rows, when they were made already (`result_rows` of these results)."""
    rows = result_rows(run_id, portal_id, results, entries) if made is None else made
    digests, set_digest = rows.digests, rows.set_digest
    stored = set_ids(session, portal_id, [set_digest])
    if set_digest in stored:
        return stored[set_digest], 0
    ids = result_ids(session, portal_id, digests) if checks_stored(session, portal_id, [check_id]) else {}
    missing = [row for row in rows.values if row[_DIGEST] not in ids] if ids else rows.values
    ids.update(insert_results(session, portal_id, missing))
    set_row = {
        "portal_id": portal_id,
        "check_id": check_id,
        "digest": set_digest,
        "results": len(digests),
        "first_run_id": run_id,
    }
    new_set = insert_new_returning(session, ResultSet, [set_row], ["portal_id", "digest"], ["id"])
    if not new_set:  # a concurrent writer stored this set a moment ago
        return set_ids(session, portal_id, [set_digest])[set_digest], len(missing)
    set_id = new_set[0].id
    if is_postgresql(session):
        bulk_insert(
            session, ResultSetMember, [{"result_set_id": set_id, "check_result_id": ids[d]} for d in digests]
        )
    else:  # tuples straight to executemany: no dict a member
        pairs = [(set_id, ids[digest]) for digest in digests]
        sqlite_bulk.executemany_values(session, ResultSetMember.__table__, _MEMBER_COLUMNS, pairs)
    return set_id, len(missing) + 1 + len(digests)


_MEMBER_COLUMNS = ("result_set_id", "check_result_id")


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
