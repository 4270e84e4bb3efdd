"""Every city's reports and the index across cities, in one folder (`wwc report --all`, the demo).

Layout: DIR/index.html, and DIR/reports/<city>/<run>.<format> for each format of FORMATS; the
index links relative to itself, so the folder can be moved or shared as it is.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wwc_pipeline.reports.index import index_entry, render_index
from wwc_pipeline.reports.render import FORMATS, _path_part, write_report, write_text


def report_paths(out: Path, city_id: str, run_id: Any) -> dict[str, Path]:
    folder = out / "reports" / _path_part(city_id, "city id")
    return {fmt: folder / f"{_path_part(run_id, 'run id')}.{fmt}" for fmt in FORMATS}


def write_all_reports(
    warehouse: Any,
    out: Path,
    city_ids: list[str] | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """Write each city's latest completed run in every format, then DIR/index.html.

    `city_ids`: these cities (default: every city the warehouse knows). A city without a
    completed run gets an index row saying so, and no report.
    """
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    entries, cities = [], []
    for city_id, name in warehouse.report_cities(city_ids):
        run = warehouse.latest_run(city_id)
        if run is None:
            entries.append({"city_id": city_id, "city_name": name, "status": "no completed run"})
            continue
        report = warehouse.city_report(city_id, run["id"])
        paths = report_paths(out, city_id, run["id"])
        for fmt, path in paths.items():
            write_report(report, fmt, path)
        entry = index_entry(report, os.path.relpath(paths["html"], out))
        entries.append(entry)
        cities.append({**entry, "path": str(paths["html"]), "files": {k: str(v) for k, v in paths.items()}})
        progress(f"{city_id}: {paths['html']}")
    index = out / "index.html"
    write_text(index, render_index(entries))
    return {"cities": cities, "index": str(index)}
