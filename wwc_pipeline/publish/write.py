"""Write the published evidence: one CSV and one Parquet file per table, the data dictionary, and
a DCAT-US 1.1 data.json describing them (catalog.py), into one folder, each file atomically."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from wwc_pipeline.publish.catalog import Publisher, catalog_document
from wwc_pipeline.publish.dictionary import TABLES, dictionary_rows
from wwc_pipeline.publish.tables import ROWS
from wwc_pipeline.reports.render import write_text

DTYPES = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean"}


class PublishError(ValueError):
    """Bad arguments for `wwc publish`; the message is one line."""


def frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows as a typed frame with the dictionary's columns, in its order."""
    columns = TABLES[table][2]
    data = pd.DataFrame(rows, columns=[name for name, _, _ in columns])
    for name, kind, _ in columns:
        if kind == "datetime":
            data[name] = pd.to_datetime(data[name], utc=True, format="ISO8601")
        else:
            data[name] = data[name].astype(DTYPES[kind])
    return data


def _write_bytes(path: Path, payload: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(payload)
    os.replace(temporary, path)


def publish(
    warehouse: Any,
    out: Path,
    publisher: Publisher,
    base_url: str | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """Publish the latest completed evidence of every city into `out`; returns the files written.

    `base_url`: where `out` will be served (the distributions' download URLs); default: the
    folder's own file:// URL.
    """
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    base = (base_url or out.as_uri()).rstrip("/") + "/"
    if not base.startswith(("http://", "https://", "file://")):
        raise PublishError(f"--base-url {base_url!r} must be an http(s) URL where the folder is served")
    rows: dict[str, list[dict[str, Any]]] = {table: [] for table in TABLES}
    latest: datetime | None = None
    cities = 0
    for city_id, _ in warehouse.report_cities():
        run = warehouse.latest_run(city_id)
        if run is None:
            continue
        report = warehouse.city_report(city_id, run["id"])
        cities += 1
        as_of = datetime.fromisoformat(report["run"]["as_of"])
        latest = as_of if latest is None or as_of > latest else latest
        for table, make in ROWS.items():
            rows[table].extend(make(report))
        progress(f"{city_id}: run {run['id']}")
    if not cities:
        raise PublishError("no completed run in the warehouse; run `wwc nightly` or `wwc demo` first")
    files = {}
    for table in TABLES:
        data = frame(table, rows[table])
        buffer = io.BytesIO()
        data.to_parquet(buffer, index=False, engine="pyarrow")
        _write_bytes(out / f"{table}.parquet", buffer.getvalue())
        write_text(out / f"{table}.csv", data.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S%z"))
        files[table] = {
            "rows": len(data),
            "csv": str(out / f"{table}.csv"),
            "parquet": str(out / f"{table}.parquet"),
        }
    write_text(out / "data-dictionary.csv", pd.DataFrame(dictionary_rows()).to_csv(index=False))
    document = catalog_document(
        base, publisher, latest or datetime.now(UTC), {t: f["rows"] for t, f in files.items()}
    )
    write_text(out / "data.json", json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return {"data_json": str(out / "data.json"), "tables": files, "cities": cities}
