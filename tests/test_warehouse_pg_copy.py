"""PostgreSQL's bulk paths (warehouse/pg_copy.py): rows COPYed with ids drawn from their
sequence are the rows INSERT ... RETURNING would have made, and new check results found taken
by a concurrent writer get that writer's ids."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import MetaData, insert, select, text
from sqlalchemy.orm import Session

from tests.test_warehouse import start
from tests.test_warehouse_bulk import ROWS, table
from tests.test_warehouse_postgres import wh  # noqa: F401 - the fixture: a warehouse in its own schema
from wwc_pipeline.warehouse import Warehouse
from wwc_pipeline.warehouse.digests import check_result_digest_of_text
from wwc_pipeline.warehouse.models import CheckResultRow, Dataset
from wwc_pipeline.warehouse.result_writes import RESULT_COLUMNS, insert_results
from wwc_pipeline.warehouse.writes import ensure_portal, insert_returning

pytestmark = pytest.mark.postgres


def test_numbered_copy_stores_what_insert_returning_stores(wh: Warehouse) -> None:  # noqa: F811
    metadata = MetaData()
    ours, theirs = table(metadata, "ours"), table(metadata, "theirs")
    metadata.create_all(wh.engine)
    ours_model = type("Ours", (), {"__table__": ours})
    columns = "key, number, value, at, note"
    with Session(wh.engine) as session:
        session.execute(insert(ours), [{"key": "z", "note": "first"}])  # the sequence has moved on
        made = insert_returning(session, ours_model, [dict(row) for row in ROWS], ["id", "key"])
        session.execute(insert(theirs), [{"key": "z", "note": "first"}])
        session.execute(insert(theirs), [dict(row) for row in ROWS])
        stored = list(session.execute(text("SELECT id, key FROM ours ORDER BY id")))
        assert [(row.id, row.key) for row in made] == stored[1:]  # the ids the rows have, in order
        assert [key for _, key in stored] == ["z", "a", "b", "c", "d"]
        assert len({pk for pk, _ in stored}) == 5
        later = session.execute(insert(ours).values(key="e", note="").returning(ours.c.id)).scalar_one()
        assert later > max(pk for pk, _ in stored)  # the column's default goes on after them
        read = f"SELECT {columns} FROM {{}} WHERE key <> 'e' ORDER BY id"
        assert list(session.execute(text(read.format("ours")))) == list(
            session.execute(text(read.format("theirs")))
        )


def test_dataset_rows_get_the_ids_they_are_stored_under(wh: Warehouse) -> None:  # noqa: F811
    run = start(wh)
    with Session(wh.engine) as session:
        portal = ensure_portal(session, "springfield", "socrata", "https://data.example.gov")
        rows = [
            {
                "portal_id": portal,
                "dataset_id": dataset_id,
                "occurrence": 1,
                "title": f"Title {dataset_id}",
                "first_seen_run_id": run,
                "last_seen_run_id": run,
                "current_version": 1,
                "current_hash": "h" * 64,
            }
            for dataset_id in ("aaaa-0001", "bbbb-0002", "cccc-0003")
        ]
        made = insert_returning(session, Dataset, rows, ["id", "dataset_id", "occurrence"])
        stored = session.execute(select(Dataset.id, Dataset.dataset_id, Dataset.title).order_by(Dataset.id))
        assert [(row.id, row.dataset_id) for row in made] == [(pk, key) for pk, key, _ in stored]
        session.commit()


def result_row(portal_id: int, run_id: int, number: int) -> dict:
    reason = f"reason {number}"
    return {
        "portal_id": portal_id,
        "dataset_version_id": None,
        "check_id": "portal.check",
        "status": "pass",
        "value": {"number": number},
        "reason": reason,
        "digest": check_result_digest_of_text(portal_id, None, "portal.check", "pass", str(number), reason),
        "first_run_id": run_id,
    }


def test_results_taken_by_a_concurrent_writer_get_its_ids(wh: Warehouse) -> None:  # noqa: F811
    run = start(wh)
    with Session(wh.engine) as session:
        portal = ensure_portal(session, "springfield", "socrata", "https://data.example.gov")
        session.commit()
    rows = [result_row(portal, run, number) for number in range(5)]
    with Session(wh.engine) as other:  # another writer stores two of them first, and commits
        other.execute(insert(CheckResultRow.__table__), [rows[1], rows[3]])
        other.commit()
    with Session(wh.engine) as session:
        encoded = [{**row, "value": json.dumps(row["value"])} for row in rows]  # as result_rows gives it
        values = [tuple(row[name] for name in RESULT_COLUMNS) for row in encoded]
        ids = insert_results(session, portal, values)
        session.commit()
    with Session(wh.engine) as session:
        query = select(CheckResultRow.digest, CheckResultRow.id)
        stored = {digest: pk for digest, pk in session.execute(query)}
    assert len(stored) == 5  # the two taken were not written twice
    assert ids == stored


def test_rows_naming_different_columns_or_their_own_ids_are_left_to_sqlalchemy(wh: Warehouse) -> None:  # noqa: F811
    from wwc_pipeline.warehouse.pg_copy import copy_numbered

    metadata = MetaData()
    ours = table(metadata, "ours")
    metadata.create_all(wh.engine)
    ours_model = type("Ours", (), {"__table__": ours})
    with Session(wh.engine) as session:
        assert copy_numbered(session, ours, [{"key": "a", "number": 1}, {"key": "b", "note": "n"}]) is None
        assert copy_numbered(session, ours, [{"id": 7, "key": "c"}]) is None
        assert session.execute(text("SELECT COUNT(*) FROM ours")).scalar() == 0  # nothing done
        made = insert_returning(
            session, ours_model, [{"id": 7, "key": "c"}, {"id": 9, "key": "d"}], ["id", "key"]
        )
        assert [(row.id, row.key) for row in made] == [(7, "c"), (9, "d")]
        assert list(session.execute(text("SELECT id, key FROM ours ORDER BY id"))) == [(7, "c"), (9, "d")]
