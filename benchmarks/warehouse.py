"""Warehouse write: `Warehouse.record_portal` against row-by-row ORM inserts of the same rows.

Both write one portal's snapshot (datasets, their first versions, the snapshot's entry list and
entries) and its check results (12 metrics per dataset, plus the harvest result; content
addressed, in one result set per check) into the same schema, on a fresh SQLite file each, in one
transaction. The baseline is what a first version would do: one ORM object per row,
`session.add` each, a flush per dataset to learn its ids. The second run of `record_portal`
over the unchanged catalog shows what change detection and content addressing save: it finds
the entry list and the result sets already stored and writes only its snapshot row and its
links to those sets.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from benchmarks.common import Timed, ratio, timed_once
from benchmarks.evaluation import normalize, served_documents
from wwc_pipeline.evaluate import evaluate_records, metric_checks
from wwc_pipeline.model import CatalogSnapshot
from wwc_pipeline.pipeline import harvest_result
from wwc_pipeline.results import CheckResult
from wwc_pipeline.warehouse import Warehouse
from wwc_pipeline.warehouse.convert import jsonable, portal_key, utc
from wwc_pipeline.warehouse.digests import check_result_digest, entry_list_digest, result_set_digest
from wwc_pipeline.warehouse.models import (
    CheckResultRow,
    Dataset,
    DatasetVersion,
    EntryList,
    Portal,
    ResultSet,
    ResultSetMember,
    Snapshot,
    SnapshotEntry,
    SnapshotResultSet,
)

CITY, PLATFORM = "bench", "socrata"
TABLES = (
    "datasets",
    "dataset_versions",
    "entry_lists",
    "snapshot_entries",
    "check_results",
    "result_sets",
    "result_set_members",
    "snapshots",
    "snapshot_result_sets",
)


def portal_write_input(size: int, seed: int) -> tuple[CatalogSnapshot, list[CheckResult], datetime]:
    """A snapshot of a generated catalog and the check results the pipeline would write for it."""
    documents, portal, as_of = served_documents(size, seed)
    records = normalize(documents, portal)
    metric_checks()  # import the checks before anything is timed
    evaluation = evaluate_records(records, as_of, PLATFORM, portal)
    results = [result for dataset in evaluation.dataset_evaluations for result in dataset.results.values()]
    results.append(harvest_result(evaluation))
    moment = datetime.now(UTC)
    snapshot = CatalogSnapshot(
        PLATFORM,
        f"https://{portal}",
        records,
        len(records),
        len(documents),
        ["0" * 64] * len(documents),
        moment,
        moment,
    )
    return snapshot, results, as_of


def fresh_warehouse(folder: Path, name: str, as_of: datetime) -> tuple[Warehouse, int]:
    """A migrated SQLite warehouse with one started run (none of this is timed)."""
    warehouse = Warehouse(f"sqlite:///{folder / name}.db")
    warehouse.migrate()
    return warehouse, warehouse.start_run(CITY, "Bench City", "rescan", "cli", as_of)


def naive_record_portal(
    warehouse: Warehouse, run_id: int, snapshot: CatalogSnapshot, results: list[CheckResult]
) -> None:
    """The same rows as `record_portal` (first run), one ORM object and `session.add` per row."""
    by_position: dict[int | None, list[CheckResult]] = {}
    for result in results:
        by_position.setdefault(result.position, []).append(result)
    url = portal_key(snapshot.portal)
    with Session(warehouse.engine) as session, session.begin():
        portal = Portal(city_id=CITY, platform=PLATFORM, url=url, domain=url.split("://", 1)[-1])
        session.add(portal)
        session.flush()
        entries, result_rows = [], []
        for position, record in enumerate(snapshot.records):
            if not record.is_dataset:
                continue
            digest = record.content_hash()
            dataset = Dataset(
                portal_id=portal.id,
                dataset_id=record.dataset_id,
                occurrence=1,
                title=record.title,
                first_seen_run_id=run_id,
                last_seen_run_id=run_id,
                current_version=1,
                current_hash=digest,
            )
            session.add(dataset)
            session.flush()  # its id, for the rows that point at it
            version = DatasetVersion(
                dataset_id=dataset.id,
                version=1,
                content_hash=digest,
                title=record.title,
                record=jsonable({k: v for k, v in record.to_dict().items() if k != "flags"}),
                first_run_id=run_id,
            )
            session.add(version)
            session.flush()
            entries.append((position, dataset.id, version.id))
            for result in by_position.get(position, []):
                result_rows.append(_result_row(result, run_id, portal.id, version.id))
        result_rows.extend(_result_row(r, run_id, portal.id, None) for r in by_position.get(None, []))
        listed = EntryList(
            portal_id=portal.id,
            digest=entry_list_digest([(p, d, v, []) for p, d, v in entries]),
            entries=len(entries),
            first_run_id=run_id,
        )
        by_check: dict[str, list[CheckResultRow]] = {}
        for row in result_rows:
            by_check.setdefault(row.check_id, []).append(row)
        result_sets = {
            check_id: ResultSet(
                portal_id=portal.id,
                check_id=check_id,
                digest=result_set_digest(row.digest for row in rows),
                results=len(rows),
                first_run_id=run_id,
            )
            for check_id, rows in by_check.items()
        }
        session.add_all([listed, *result_sets.values(), *result_rows])
        session.flush()
        for position, dataset_pk, version_pk in entries:
            session.add(
                SnapshotEntry(
                    entry_list_id=listed.id,
                    position=position,
                    dataset_id=dataset_pk,
                    dataset_version_id=version_pk,
                    flags=[],
                )
            )
        for row in result_rows:
            session.add(ResultSetMember(result_set_id=result_sets[row.check_id].id, check_result_id=row.id))
        written = Snapshot(
            run_id=run_id,
            portal_id=portal.id,
            status="complete",
            assets=snapshot.assets,
            datasets=len(snapshot.datasets),
            pages=snapshot.pages,
            page_digests=jsonable(snapshot.page_digests),
            warnings=jsonable(snapshot.warnings),
            started_at=utc(snapshot.started_at),
            finished_at=utc(snapshot.finished_at),
            entry_list_id=listed.id,
        )
        session.add(written)
        session.flush()
        for result_set in result_sets.values():
            session.add(SnapshotResultSet(snapshot_id=written.id, result_set_id=result_set.id))


def _result_row(result: CheckResult, run_id: int, portal_id: int, version_pk: int | None) -> CheckResultRow:
    status, value, reason = result.status.value, jsonable(result.value), result.reason or ""
    return CheckResultRow(
        portal_id=portal_id,
        dataset_version_id=version_pk,
        check_id=result.check_id,
        status=status,
        value=value,
        reason=reason,
        digest=check_result_digest(portal_id, version_pk, result.check_id, status, value, reason),
        first_run_id=run_id,
    )


def row_counts(warehouse: Warehouse) -> dict[str, int]:
    return {table: warehouse.count_rows(table) for table in TABLES}


def content_digest(warehouse: Warehouse) -> str:
    """A digest of what the portal's rows say, free of surrogate keys: two writes of the same
    snapshot and results give the same digest, however they were inserted."""
    queries = (
        select(Dataset.dataset_id, Dataset.occurrence, Dataset.title, Dataset.current_version,
               Dataset.current_hash),
        select(Dataset.dataset_id, DatasetVersion.version, DatasetVersion.content_hash, DatasetVersion.record)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id),
        select(Dataset.dataset_id, SnapshotEntry.position, SnapshotEntry.repeat_of_position,
               SnapshotEntry.flags)
        .join(Dataset, Dataset.id == SnapshotEntry.dataset_id),
        select(Dataset.dataset_id, CheckResultRow.check_id, CheckResultRow.status, CheckResultRow.value,
               CheckResultRow.reason)
        .outerjoin(DatasetVersion, DatasetVersion.id == CheckResultRow.dataset_version_id)
        .outerjoin(Dataset, Dataset.id == DatasetVersion.dataset_id),
        select(EntryList.entries, ResultSet.check_id, ResultSet.results)
        .join(Snapshot, Snapshot.entry_list_id == EntryList.id)
        .join(SnapshotResultSet, SnapshotResultSet.snapshot_id == Snapshot.id)
        .join(ResultSet, ResultSet.id == SnapshotResultSet.result_set_id),
    )  # fmt: skip
    digest = hashlib.sha256()
    with warehouse.engine.connect() as connection:
        for query in queries:
            rows = sorted(
                json.dumps(list(row), sort_keys=True, default=str) for row in connection.execute(query)
            )
            digest.update("\n".join(rows).encode())
    return digest.hexdigest()


def run(size: int, repeat: int, seed: int = 1) -> dict[str, Any]:
    """`repeat` rounds of: ours (first run), ours (second run, unchanged), naive; fresh files each."""
    snapshot, results, as_of = portal_write_input(size, seed)
    first, second, naive = Timed(), Timed(), Timed()
    with tempfile.TemporaryDirectory(prefix="wwc-bench-") as folder:
        for round_number in range(repeat):
            ours, run_id = fresh_warehouse(Path(folder), f"ours{round_number}", as_of)
            stats_first = timed_once(
                lambda w=ours, r=run_id: w.record_portal(
                    r, CITY, PLATFORM, snapshot.portal, snapshot, results
                ),
                first,
            )
            counts_first, digest_first = row_counts(ours), content_digest(ours)
            run_two = ours.start_run(CITY, "Bench City", "rescan", "cli", as_of)
            stats_second = timed_once(
                lambda w=ours, r=run_two: w.record_portal(
                    r, CITY, PLATFORM, snapshot.portal, snapshot, results
                ),
                second,
            )
            counts_second = row_counts(ours)
            ours.dispose()
            baseline, run_id = fresh_warehouse(Path(folder), f"naive{round_number}", as_of)
            timed_once(lambda w=baseline, r=run_id: naive_record_portal(w, r, snapshot, results), naive)
            counts_naive, digest_naive = row_counts(baseline), content_digest(baseline)
            baseline.dispose()
        # a last untimed write under tracemalloc: what one portal write holds at its peak
        traced, run_id = fresh_warehouse(Path(folder), "traced", as_of)
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            traced.record_portal(run_id, CITY, PLATFORM, snapshot.portal, snapshot, results)
            peak_mb = (tracemalloc.get_traced_memory()[1] - before) / 1e6
        finally:
            tracemalloc.stop()
            traced.dispose()
    return {
        "size": len(snapshot.datasets),
        "check_results": len(results),
        "ours_first": {**first.as_dict(), "stats": vars(stats_first), "rows": counts_first},
        "ours_second": {**second.as_dict(), "stats": vars(stats_second), "rows": counts_second},
        "naive": {**naive.as_dict(), "rows": counts_naive},
        "same_rows": counts_naive == counts_first and digest_naive == digest_first,
        "first_write_peak_traced_mb": round(peak_mb, 1),
        "first_write_peak_traced_kb_per_dataset": round(1000 * peak_mb / len(snapshot.datasets), 2),
        "ratios": {
            "time_naive_over_ours": ratio(naive.median, first.median),
            "time_second_over_first": ratio(second.median, first.median),
            "versions_second_over_first": ratio(
                counts_second["dataset_versions"] - counts_first["dataset_versions"],
                counts_first["dataset_versions"],
            ),
            "rows_second_over_first": ratio(
                sum(counts_second.values()) - sum(counts_first.values()), sum(counts_first.values())
            ),
        },
    }
