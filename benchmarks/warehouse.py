"""Warehouse write: `Warehouse.record_portal` against row-by-row ORM inserts of the same rows.

Both write one portal's snapshot (datasets, their first versions, the snapshot's dataset list)
and its check results (12 metrics per dataset, plus the harvest result) into the same schema, on
a fresh SQLite file each, in one transaction. The baseline is what a first version would do:
one ORM object per row, `session.add` each, a flush per dataset to learn its id. The second
run of `record_portal` over the unchanged catalog shows what change detection saves: no new
dataset or version rows, only the snapshot's list and the run's check results.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
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
from wwc_pipeline.warehouse.models import (
    CheckResultRow,
    Dataset,
    DatasetVersion,
    Portal,
    Snapshot,
    SnapshotDataset,
)

CITY, PLATFORM = "bench", "socrata"
TABLES = ("datasets", "dataset_versions", "snapshot_datasets", "check_results")


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
    by_dataset: dict[str | None, list[CheckResult]] = {}
    for result in results:
        by_dataset.setdefault(result.dataset_id, []).append(result)
    url = portal_key(snapshot.portal)
    with Session(warehouse.engine) as session, session.begin():
        portal = Portal(city_id=CITY, platform=PLATFORM, url=url, domain=url.split("://", 1)[-1])
        session.add(portal)
        session.flush()
        listed = Snapshot(
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
        )
        session.add(listed)
        session.flush()
        for position, record in enumerate(snapshot.datasets):
            digest = record.content_hash()
            dataset = Dataset(
                portal_id=portal.id,
                dataset_id=record.dataset_id,
                title=record.title,
                first_seen_run_id=run_id,
                last_seen_run_id=run_id,
                current_version=1,
                current_hash=digest,
            )
            session.add(dataset)
            session.flush()  # its id, for the rows that point at it
            session.add(
                DatasetVersion(
                    dataset_id=dataset.id,
                    version=1,
                    content_hash=digest,
                    title=record.title,
                    record=jsonable(record.to_dict()),
                    first_run_id=run_id,
                )
            )
            session.add(
                SnapshotDataset(snapshot_id=listed.id, dataset_id=dataset.id, version=1, position=position)
            )
            for result in by_dataset.get(record.dataset_id, []):
                session.add(_result_row(result, run_id, portal.id, dataset.id))
        for result in by_dataset.get(None, []):
            session.add(_result_row(result, run_id, portal.id, None))


def _result_row(result: CheckResult, run_id: int, portal_id: int, dataset_pk: int | None) -> CheckResultRow:
    return CheckResultRow(
        run_id=run_id,
        portal_id=portal_id,
        dataset_id=dataset_pk,
        check_id=result.check_id,
        status=result.status.value,
        value=jsonable(result.value),
        reason=result.reason or "",
    )


def row_counts(warehouse: Warehouse) -> dict[str, int]:
    return {table: warehouse.count_rows(table) for table in TABLES}


def content_digest(warehouse: Warehouse) -> str:
    """A digest of what the portal's rows say, free of surrogate keys: two writes of the same
    snapshot and results give the same digest, however they were inserted."""
    queries = (
        select(Dataset.dataset_id, Dataset.title, Dataset.current_version, Dataset.current_hash),
        select(Dataset.dataset_id, DatasetVersion.version, DatasetVersion.content_hash, DatasetVersion.record)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id),
        select(Dataset.dataset_id, SnapshotDataset.version, SnapshotDataset.position)
        .join(Dataset, Dataset.id == SnapshotDataset.dataset_id),
        select(Dataset.dataset_id, CheckResultRow.check_id, CheckResultRow.status, CheckResultRow.value,
               CheckResultRow.reason)
        .outerjoin(Dataset, Dataset.id == CheckResultRow.dataset_id),
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
    return {
        "size": len(snapshot.datasets),
        "check_results": len(results),
        "ours_first": {**first.as_dict(), "stats": vars(stats_first), "rows": counts_first},
        "ours_second": {**second.as_dict(), "stats": vars(stats_second), "rows": counts_second},
        "naive": {**naive.as_dict(), "rows": counts_naive},
        "same_rows": counts_naive == counts_first and digest_naive == digest_first,
        "ratios": {
            "time_naive_over_ours": ratio(naive.median, first.median),
            "time_second_over_first": ratio(second.median, first.median),
            "versions_second_over_first": ratio(
                counts_second["dataset_versions"] - counts_first["dataset_versions"],
                counts_first["dataset_versions"],
            ),
        },
    }
