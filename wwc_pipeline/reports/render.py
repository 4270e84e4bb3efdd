"""Report files from plain report data (`Warehouse.city_report`): the formats, the markdown
summary, and atomic writes. HTML: html.py; JSON and CSV: exports.py; index: index.py.
Every format carries the same overall line (summary.overall_line).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from wwc_pipeline.reports.exports import (
    DATASET_COLUMNS,
    render_criteria_csv,
    render_datasets_csv,
    render_json,
)
from wwc_pipeline.reports.html import render_html
from wwc_pipeline.reports.index import render_index
from wwc_pipeline.reports.keydata import render_key_datasets_csv
from wwc_pipeline.reports.summary import (
    ReportError,
    check_report,
    current_ids,
    format_score,
    format_time,
    overall_line,
)

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "default_report_path",
    "render_csv",
    "render_html",
    "render_index",
    "render_json",
    "render_markdown",
    "write_report",
]

CSV_COLUMNS = DATASET_COLUMNS
render_csv = render_datasets_csv  # "csv": the datasets file


def _md(text: Any) -> str:
    """Text safe inside a markdown table cell: one line, pipes escaped, no raw HTML."""
    text = "" if text is None else str(text)
    text = re.sub(r"\s*[\r\n]+\s*", " ", text)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def render_markdown(report: Mapping) -> str:
    """Overall line and the criteria table: short enough for a Prefect markdown artifact."""
    check_report(report)
    city, run = report["city"], report["run"]
    lines = [
        f"## WWC evidence: {_md(city.get('name') or city['id'])}",
        "",
        f"Run {_md(run['id'])} ({_md(run.get('kind') or 'run')}, {_md(run.get('status') or 'unknown')}),"
        f" as of {_md(format_time(run.get('as_of')))}.",
    ]
    if run.get("error"):
        lines.append(f"Run error: {_md(run['error'])}")
    warnings = [(p.get("url"), w) for p in report.get("portals") or [] for w in p.get("warnings") or []]
    if warnings:
        lines += ["", *(f"- Harvest warning ({_md(url)}): {_md(warning)}" for url, warning in warnings)]
    lines += [
        "",
        f"**{_md(overall_line(report))}**",
        "",
        "| id | component | current | score | status | evidence |",
        "| --- | --- | --- | ---: | --- | --- |",
    ]
    for criterion in report.get("criteria") or []:
        cells = (
            criterion.get("criterion_id"),
            criterion.get("component"),
            ", ".join(current_ids(criterion)),
            format_score(criterion.get("score")),
            criterion.get("status"),
            criterion.get("evidence"),
        )
        lines.append("| " + " | ".join(_md(cell) for cell in cells) + " |")
    lines += ["", "Automated evidence from a portal scan; the WWC panel decides from the city's documents."]
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[[Mapping], str]] = {
    "html": render_html,
    "json": render_json,
    "criteria.csv": render_criteria_csv,  # one row per criterion
    "datasets.csv": render_datasets_csv,  # one row per dataset and check
    "csv": render_datasets_csv,  # the datasets file, under its earlier name
    "md": render_markdown,
    "keydata.csv": render_key_datasets_csv,  # the key-datasets table, a file of its own
}
FORMATS = ("html", "json", "criteria.csv", "datasets.csv", "keydata.csv")  # what `--all` writes


def _path_part(value: Any, what: str) -> str:
    text = str(value)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", text) or ".." in text:
        raise ReportError(
            f"{what} {text!r} cannot be used in a file name; use letters, digits, '.', '_', '-'"
        )
    return text


def data_dir() -> Path:
    """WWC_DATA_DIR, else ./wwc-data."""
    return Path(os.environ.get("WWC_DATA_DIR") or "wwc-data")


def default_report_path(city_id: Any, run_id: Any, fmt: str) -> Path:
    """<WWC_DATA_DIR or ./wwc-data>/reports/<city_id>/<run_id>.<fmt>."""
    return data_dir() / "reports" / _path_part(city_id, "city id") / f"{_path_part(run_id, 'run id')}.{fmt}"


def write_report(report: Mapping, fmt: str, out: Path | str | None = None) -> Path:
    """Write one report (html, json, csv or md) and return its path.

    `out` is the file to write; an existing directory gets `<city_id>-<run_id>.<fmt>` inside it;
    None means `default_report_path`. Parent directories are created; the file is replaced
    atomically, so a reader never sees half a report.
    """
    renderer = RENDERERS.get(fmt)
    if renderer is None:
        raise ReportError(f"unknown report format {fmt!r}; use one of: {', '.join(RENDERERS)}")
    check_report(report)
    city_id, run_id = report["city"]["id"], report["run"]["id"]
    if out is None:
        path = default_report_path(city_id, run_id, fmt)
    else:
        path = Path(out)
        if path.is_dir():
            path = path / f"{_path_part(city_id, 'city id')}-{_path_part(run_id, 'run id')}.{fmt}"
    write_text(path, renderer(report))
    return path


def write_text(path: Path, text: str) -> None:
    """Replace `path` atomically with `text` (parents created), readable by all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary: Path | None = None
    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", newline="", dir=path.parent, prefix=f".{path.name}.", delete=False
        ) as handle:
            temporary = Path(handle.name)
            handle.write(text)
        temporary.chmod(0o644)  # a temporary file is private; a report is for reading
        os.replace(temporary, path)
    except BaseException:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise
