"""What the CLI prints, as rich tables built from plain data.

Every cell that can hold text from a portal, the config or the command line goes in through
`cliutil.safe_text`: shown as written, never parsed as markup, escape sequences made inert.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from wwc_pipeline.cliutil import plain, safe_text


def _cell(value: Any) -> Text:
    return safe_text("" if value is None else value)


def _time(value: Any) -> Text:
    return _cell(str(value)[:19] if value else "")


def summaries_table(summaries: Mapping[str, Mapping]) -> Table:
    """One row per city of a nightly or a scan: run id, status, and why a portal failed."""
    table = Table("city", "run", "status", "datasets", "warnings", "detail")
    table.columns[-1].overflow = "fold"
    for city_id, summary in summaries.items():
        failed = summary.get("failed_portals") or {}
        detail = summary.get("error") or "; ".join(f"{url}: {why}" for url, why in failed.items())
        warnings = sum(len(items) for items in (summary.get("warnings") or {}).values())
        table.add_row(
            _cell(city_id),
            _cell(summary.get("run_id") or "-"),
            _cell(summary.get("status", "?")),
            _cell("" if summary.get("datasets") is None else summary["datasets"]),
            _cell(warnings or ""),
            _cell(detail),
        )
    return table


def summary_warnings(summaries: Mapping[str, Mapping]) -> list[str]:
    """Every harvest warning of every city, as `city portal: warning` lines."""
    lines = []
    for city_id, summary in summaries.items():
        for portal, warnings in (summary.get("warnings") or {}).items():
            lines.extend(f"{city_id} {portal}: {warning}" for warning in warnings)
    return lines


def runs_table(runs: list[Mapping]) -> Table:
    """The run history; the error column wraps, so a reason is never cut."""
    table = Table("run", "city", "kind", "trigger", "status", "started", "finished", "error")
    table.columns[-1].overflow = "fold"
    table.columns[-1].ratio = 1
    for run in runs:
        table.add_row(
            _cell(run["id"]),
            _cell(run["city_id"]),
            _cell(run["kind"]),
            _cell(run["trigger"]),
            _cell(run["status"]),
            _time(run["started_at"]),
            _time(run["finished_at"]),
            _cell(run.get("error") or ""),
        )
    return table


def run_detail(run: Mapping, report: Mapping | None) -> Group:
    """One run whole: its fields, each portal with status, counts, error and warnings, its scores."""
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column(overflow="fold")
    for key in ("id", "city_id", "kind", "trigger", "status", "as_of", "started_at", "finished_at", "error"):
        if run.get(key) not in (None, ""):
            head.add_row(key.replace("_", " "), _cell(run[key]))
    parts: list[Any] = [head]
    portals = (report or {}).get("portals") or []
    if portals:
        table = Table("platform", "portal", "harvest", "assets", "datasets", "pages", "error / warnings")
        table.columns[-1].overflow = "fold"
        for portal in portals:
            notes = [portal["error"]] if portal.get("error") else []
            notes += [f"warning: {warning}" for warning in portal.get("warnings") or []]
            table.add_row(
                *(
                    _cell(portal.get(key))
                    for key in ("platform", "url", "status", "assets", "datasets", "pages")
                ),
                _cell("\n".join(plain(note) for note in notes)),
            )
        parts.append(table)
    else:
        parts.append(Text("no portal was recorded for this run"))
    criteria = (report or {}).get("criteria") or []
    if criteria:
        scores = Table("criterion", "score", "status")
        for row in criteria:
            score = "—" if row.get("score") is None else f"{float(row['score']):.1f}"
            scores.add_row(_cell(row.get("criterion_id")), _cell(score), _cell(row.get("status")))
        parts.append(scores)
    return Group(*parts)


def cities_table(cities: list[Any]) -> Table:
    table = Table("id", "name", "platform", "portal", "token env")
    for city in cities:
        for portal in city.portals:
            table.add_row(
                _cell(city.id), _cell(city.name), _cell(portal.platform), _cell(portal.url),
                _cell(portal.app_token_env or "-"),
            )  # fmt: skip
    return table
