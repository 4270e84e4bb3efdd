"""Backfill: Minneapolis's archived snapshots loaded as runs, against `wwc evaluate` of the same files.

Both read and normalize every snapshot and judge it by METRICS.md. The baseline stops there
(`offline.evaluate_files`, what `wwc evaluate` does); the backfill also sets each snapshot
against the warehouse's history of the portal (identity across renames, observed cadence,
past-year activity), runs the portal checks, scores the criteria and writes it all to a fresh
SQLite warehouse, one run per snapshot. The ratio is what history and the warehouse cost on top
of judging the files; datasets per second are context. A second backfill of the same folder
finds every snapshot already loaded and writes nothing.

The snapshots are real (`../shared/real-portals/history/minneapolis`); without them the
benchmark reports itself skipped.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import Timed, interleaved, ratio, timed_once
from wwc_pipeline.config import CityConfig, load_criteria
from wwc_pipeline.evaluate import metric_checks
from wwc_pipeline.history.backfill import backfill_city
from wwc_pipeline.history.snapshots import list_snapshots
from wwc_pipeline.offline import evaluate_files
from wwc_pipeline.warehouse import Warehouse

REPO = Path(__file__).resolve().parent.parent
HISTORY = REPO.parent / "shared" / "real-portals" / "history" / "minneapolis"
CITY = CityConfig(
    id="minneapolis",
    name="City of Minneapolis",
    portals=[{"platform": "dcat", "url": "https://opendata.minneapolismn.gov"}],
)


def snapshot_folder(history: Path, work: Path, limit: int | None) -> Path:
    """The history folder, or a folder linking its first `limit` snapshots (in as-of order)."""
    if limit is None:
        return history
    entries, _ = list_snapshots(history)
    folder = work / "snapshots"
    folder.mkdir()
    for entry in entries[:limit]:
        (folder / f"{entry.as_of:%Y%m%d}.json").symlink_to(entry.path)
    return folder


def run(repeat: int, limit: int | None = None, history: Path = HISTORY) -> dict[str, Any]:
    if not (history / "MANIFEST.tsv").is_file():
        return {"skipped": f"{history} not found (../shared absent)"}
    metric_checks()  # imports the checks (and Great Expectations) before anything is timed
    criteria = load_criteria()
    with tempfile.TemporaryDirectory(prefix="wwc-bench-backfill-") as scratch:
        work = Path(scratch)
        folder = snapshot_folder(history, work, limit)
        entries, _ = list_snapshots(folder)
        warehouses = []
        for number in range(repeat):
            warehouse = Warehouse(f"sqlite:///{work / f'w{number}.db'}")
            warehouse.migrate()  # a fresh, migrated warehouse per round: migrating is not timed
            warehouses.append(warehouse)
        pending = list(warehouses)

        def backfill() -> Any:
            return backfill_city(CITY, folder, warehouse=pending.pop(0), criteria=criteria)

        def evaluate() -> Any:
            return [evaluate_files([entry.path], "auto", entry.as_of)[0] for entry in entries]

        timings = interleaved(
            repeat,
            keep=lambda result: _summary(result),
            runs={"backfill": backfill, "evaluate": evaluate},
        )
        again = Timed()
        timed_once(
            lambda: backfill_city(CITY, folder, warehouse=warehouses[-1], criteria=criteria), again, _summary
        )
        for warehouse in warehouses:
            warehouse.dispose()
    ours, baseline = timings["backfill"], timings["evaluate"]
    datasets = ours.result["datasets"]
    return {
        "snapshots": len(entries),
        "datasets": datasets,
        "backfill": {**ours.as_dict(), **ours.result, "datasets_per_s": _rate(datasets, ours.median)},
        "evaluate": {
            **baseline.as_dict(),
            **baseline.result,
            "datasets_per_s": _rate(baseline.result["datasets"], baseline.median),
        },
        "backfill_again": {**again.as_dict(), **again.result},
        "same_datasets": baseline.result["datasets"] == datasets,
        "ratios": {
            "time_backfill_over_evaluate": ratio(ours.median, baseline.median),
            "time_again_over_first": ratio(again.median, ours.median),
        },
    }


def _summary(result: Any) -> dict[str, Any]:
    if isinstance(result, list):  # evaluate: one `wwc evaluate --json` object per file
        return {"runs": 0, "datasets": sum(item["datasets"] for item in result)}
    return {
        "runs": len(result.loaded),
        "already": len(result.already),
        "problems": len(result.problems),
        "datasets": sum(item["datasets"] for item in result.loaded),
    }


def _rate(datasets: int, seconds: float) -> float | None:
    return round(datasets / seconds, 1) if seconds else None
