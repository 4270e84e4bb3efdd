"""Report formats from plain report data (`Warehouse.city_report`): JSON, CSV, markdown, files.

The HTML page and the index live in `html.py`; this module re-exports them so callers need one
import. Every format carries the same overall line (summary.overall_line).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from wwc_pipeline.reports.html import render_html, render_index
from wwc_pipeline.reports.keydata import key_datasets_data, render_key_datasets_csv
from wwc_pipeline.reports.summary import (
    ReportError,
    check_order,
    check_report,
    criteria_by_check,
    current_ids,
    format_score,
    format_time,
    format_value,
    overall_line,
    to_jsonable,
)

__all__ = [
    "CSV_COLUMNS",
    "default_report_path",
    "render_csv",
    "render_html",
    "render_index",
    "render_json",
    "render_markdown",
    "write_report",
]

CSV_COLUMNS = (
    "city",
    "run_id",
    "portal",
    "dataset_id",
    "title",
    "check_id",
    "status",
    "reason",
    "value",  # the check's measured value: text as is, anything else as JSON
    "criteria",  # ids of the criteria the check feeds, ";"-separated
    "level",  # "dataset", or "portal" for the portal-level checks listed after the datasets
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render_json(report: Mapping) -> str:
    """The report data plus its overall line, as stable indented JSON (sorted keys, ISO times)."""
    check_report(report)
    data = {**report, "overall": overall_line(report)}
    key_datasets = key_datasets_data(report)
    if key_datasets is not None:
        data["key_datasets"] = key_datasets
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=to_jsonable) + "\n"


def _cell(text: Any) -> str:
    """Text from a portal, made inert for spreadsheets: a leading =, +, -, @ gets a quote."""
    text = "" if text is None else str(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def render_csv(report: Mapping, include_portal_checks: bool = True) -> str:
    """One row per dataset x check (the checks each dataset carries), then the portal-level checks.

    Columns: CSV_COLUMNS. Titles, ids and reasons starting with = + - @ are prefixed with a quote
    so that a spreadsheet does not run them as formulas.
    """
    check_report(report)
    city, run_id = report["city"]["id"], report["run"]["id"]
    order = check_order(report)
    feeds = criteria_by_check(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for dataset in report.get("datasets") or []:
        checks = dataset.get("checks") or {}
        reasons = dataset.get("reasons") or {}
        values = dataset.get("values") or {}
        for check_id in (c for c in order if c in checks):
            writer.writerow(
                (
                    city,
                    run_id,
                    dataset.get("portal") or "",
                    _cell(dataset.get("dataset_id")),
                    _cell(dataset.get("title")),
                    check_id,
                    checks[check_id],
                    _cell(reasons.get(check_id)),
                    _cell(format_value(values.get(check_id))),
                    ";".join(feeds.get(check_id, [])),
                    "dataset",
                )
            )
    if include_portal_checks:
        for row in report.get("portal_checks") or []:
            check_id = row.get("check_id") or ""
            writer.writerow(
                (
                    city,
                    run_id,
                    row.get("portal") or "",
                    "",
                    "",
                    check_id,
                    row.get("status") or "",
                    _cell(row.get("reason")),
                    _cell(format_value(row.get("value"))),
                    ";".join(feeds.get(check_id, [])),
                    "portal",
                )
            )
    return buffer.getvalue()


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
    "csv": render_csv,
    "md": render_markdown,
    "keydata.csv": render_key_datasets_csv,  # the key-datasets table, a file of its own
}


def _path_part(value: Any, what: str) -> str:
    text = str(value)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", text) or ".." in text:
        raise ReportError(
            f"{what} {text!r} cannot be used in a file name; use letters, digits, '.', '_', '-'"
        )
    return text


def default_report_path(city_id: Any, run_id: Any, fmt: str) -> Path:
    """<WWC_DATA_DIR or ./wwc-data>/reports/<city_id>/<run_id>.<fmt>."""
    data_dir = Path(os.environ.get("WWC_DATA_DIR") or "wwc-data")
    return data_dir / "reports" / _path_part(city_id, "city id") / f"{_path_part(run_id, 'run id')}.{fmt}"


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
    text = renderer(report)
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
    return path
