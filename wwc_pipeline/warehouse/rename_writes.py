"""Renames: a dataset listed under a new identifier keeps its dataset row, and the change is
recorded (never silent). Runs inside `Warehouse.record_portal`'s transaction, before the
entries are written, so that the new identifier finds the dataset's row.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from wwc_pipeline.history.identity import Rename
from wwc_pipeline.warehouse.models import Dataset, DatasetRename
from wwc_pipeline.warehouse.writes import NO_SYNC, bulk_insert, chunks


def clear_renames(session: Session, run_id: int, portal_id: int) -> None:
    """Forget the renames an earlier write of this (run, portal) recorded (before it is undone)."""
    session.execute(
        delete(DatasetRename)
        .where(DatasetRename.run_id == run_id, DatasetRename.portal_id == portal_id)
        .execution_options(**NO_SYNC)
    )


def apply_renames(
    session: Session, run_id: int, portal_id: int, renames: Sequence[tuple[int, Rename]]
) -> int:
    """Move each renamed dataset's rows (every occurrence) to its new identifier; returns the rows
    recorded. `renames`: (key of the dataset's row, rename); the row moves from whatever
    identifier it carries now.

    When the new identifier already has a row of its own (an older snapshot loaded after newer
    runs listed it), both rows stay and the rename links the old row to it.
    """
    if not renames:
        return 0
    carried = _identifiers_of(session, [key for key, _ in renames])
    rows = _rows_of(session, portal_id, [*carried.values(), *(rename.new_id for _, rename in renames)])
    recorded, moved = [], []
    for key, rename in renames:
        identifier = carried.get(key)
        if identifier is None:
            continue  # the row is gone: nothing to continue
        new = rows.setdefault(rename.new_id, {})
        target = new.get(1)
        if target is not None and target != key:
            recorded.append(_row(run_id, portal_id, target, key, rename))
            continue
        old = rows.setdefault(identifier, {})
        for occurrence in [n for n in old if n not in new]:  # every listing of the id moves along
            new[occurrence] = old.pop(occurrence)
            moved.append({"id": new[occurrence], "dataset_id": rename.new_id})
        recorded.append(_row(run_id, portal_id, key, None, rename))
    if moved:
        session.execute(update(Dataset).execution_options(**NO_SYNC), moved)
    bulk_insert(session, DatasetRename, recorded)
    return len(recorded)


def _identifiers_of(session: Session, keys: list[int]) -> dict[int, str]:
    """Dataset key -> the identifier its row carries now."""
    found: dict[int, str] = {}
    for part in chunks(sorted(set(keys))):
        found.update(
            session.execute(select(Dataset.id, Dataset.dataset_id).where(Dataset.id.in_(part))).all()
        )
    return found


def _rows_of(session: Session, portal_id: int, identifiers: list[str]) -> dict[str, dict[int, int]]:
    """identifier -> {occurrence: dataset key}, for the portal's rows with these identifiers."""
    found: dict[str, dict[int, int]] = {}
    for part in chunks(sorted(set(identifiers))):
        query = select(Dataset.dataset_id, Dataset.occurrence, Dataset.id).where(
            Dataset.portal_id == portal_id, Dataset.dataset_id.in_(part)
        )
        for identifier, occurrence, key in session.execute(query):
            found.setdefault(identifier, {})[occurrence] = key
    return found


def _row(run_id: int, portal_id: int, key: int, from_key: int | None, rename: Rename) -> dict:
    return {
        "portal_id": portal_id,
        "run_id": run_id,
        "dataset_id": key,
        "from_dataset_id": from_key,
        "old_identifier": rename.old_id,
        "new_identifier": rename.new_id,
        "rule": rename.rule,
    }
